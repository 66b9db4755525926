using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Scenarios;

namespace ProvisioningFleet.Simulator.Inspection;

/// <summary>
/// The simulator's own HTTP API, apart from WinRM and unauthenticated (a test and demo tool): read and
/// change any device, read what was invoked where, export the device list for the service's import.
/// </summary>
internal static class InspectionApi
{
    public static IEndpointRouteBuilder MapSimulatorInspectionApi(this IEndpointRouteBuilder routes, SimulatedFleet fleet)
    {
        var devices = routes.MapGroup("/simulator/devices").WithTags("Simulator");

        devices.MapGet("/", (int? skip, int? take, bool? inProvisioningMode) =>
        {
            var selected = fleet.Devices.Where(d => inProvisioningMode is null || d.InProvisioningMode == inProvisioningMode)
                .OrderBy(d => d.HostName, StringComparer.OrdinalIgnoreCase).ToList();
            var page = selected.Skip(Math.Max(0, skip ?? 0)).Take(Math.Clamp(take ?? 100, 1, 1000)).Select(DeviceDocument.From).ToList();
            return TypedResults.Ok(new { total = selected.Count, items = page });
        }).WithName("SimulatorListDevices").WithSummary("Lists simulated devices (skip/take, at most 1000 a page).");

        devices.MapGet("/{host}", Results<Ok<DeviceDocument>, NotFound> (string host) =>
            fleet.Find(host) is { } device ? TypedResults.Ok(DeviceDocument.From(device)) : TypedResults.NotFound())
            .WithName("SimulatorGetDevice").WithSummary("One device's full state, as its own clock sees it now.");

        devices.MapPost("/", Results<Created<DeviceDocument>, Conflict, ValidationProblem> (JsonObject body) =>
        {
            if (body["hostName"] is not JsonValue name || !name.TryGetValue<string>(out var host) || string.IsNullOrWhiteSpace(host))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["hostName"] = ["Required."] });
            }
            if (fleet.Find(host) is not null)
            {
                return TypedResults.Conflict();
            }
            var device = new SimulatedDevice(host);
            var errors = DeviceDocument.Apply(device, body);
            if (errors.Count > 0)
            {
                return TypedResults.ValidationProblem(errors);
            }
            fleet.Add(device);
            return TypedResults.Created($"/simulator/devices/{Uri.EscapeDataString(device.HostName)}", DeviceDocument.From(device));
        }).WithName("SimulatorAddDevice").WithSummary("Adds a device; fields left out take their defaults.");

        devices.MapPut("/{host}", Results<Ok<DeviceDocument>, ValidationProblem> (string host, JsonObject body) =>
        {
            var device = new SimulatedDevice(host);
            var errors = DeviceDocument.Apply(device, body);
            if (errors.Count > 0)
            {
                return TypedResults.ValidationProblem(errors);
            }
            fleet.Add(device);
            return TypedResults.Ok(DeviceDocument.From(device));
        }).WithName("SimulatorReplaceDevice").WithSummary("Replaces (or creates) a device; fields left out take their defaults.");

        devices.MapPatch("/{host}", Results<Ok<DeviceDocument>, NotFound, ValidationProblem> (string host, JsonObject body) =>
        {
            if (fleet.Find(host) is not { } device)
            {
                return TypedResults.NotFound();
            }
            var errors = DeviceDocument.Apply(device, body);
            return errors.Count > 0 ? TypedResults.ValidationProblem(errors) : TypedResults.Ok(DeviceDocument.From(device));
        }).WithName("SimulatorPatchDevice").WithSummary("Changes only the fields given; nothing changes if any is invalid.");

        devices.MapDelete("/{host}", Results<NoContent, NotFound> (string host) =>
            fleet.Remove(host) ? TypedResults.NoContent() : TypedResults.NotFound())
            .WithName("SimulatorRemoveDevice").WithSummary("Removes a device from the fleet.");

        var invocations = routes.MapGroup("/simulator/invocations").WithTags("Simulator");
        invocations.MapGet("/", (string? host, string? method) =>
        {
            var records = host is null ? fleet.AllInvocations() : fleet.Invocations(host);
            return TypedResults.Ok(records.Where(r => method is null || string.Equals(r.Method, method, StringComparison.OrdinalIgnoreCase)).ToList());
        }).WithName("SimulatorListInvocations").WithSummary("CIM methods invoked, oldest first, optionally for one host or method.");
        invocations.MapDelete("/", (string? host) =>
        {
            foreach (var device in host is null ? fleet.Devices : fleet.Find(host) is { } one ? [one] : [])
            {
                device.ClearInvocations();
            }
            return TypedResults.NoContent();
        }).WithName("SimulatorClearInvocations").WithSummary("Forgets the invocation log (of one host, or all).");

        var export = routes.MapGroup("/simulator/export").WithTags("Simulator");
        export.MapGet("/devices.csv", async (HttpContext context, string? authentication, string? credential) =>
        {
            context.Response.ContentType = "text/csv; charset=utf-8";
            await using var writer = new StreamWriter(context.Response.Body);
            await DeviceListExport.WriteCsvAsync(writer, fleet.Devices, Settings(context, authentication, credential), context.RequestAborted);
        }).WithName("SimulatorExportCsv").WithSummary("The device list in the service's CSV import format.");
        export.MapGet("/devices.json", async (HttpContext context, string? authentication, string? credential) =>
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await DeviceListExport.WriteJsonAsync(context.Response.Body, fleet.Devices, Settings(context, authentication, credential), context.RequestAborted);
        }).WithName("SimulatorExportJson").WithSummary("The device list in the service's JSON import format.");

        return routes;
    }

    private static DeviceExportSettings Settings(HttpContext context, string? authentication, string? credential)
    {
        var baseUri = new Uri($"{context.Request.Scheme}://{context.Request.Host}/");
        return new DeviceExportSettings(d => new Uri(baseUri, "wsman/" + Uri.EscapeDataString(d.HostName)),
            context.Request.IsHttps ? "Https" : "Http", authentication ?? "Basic", credential ?? "simulator");
    }
}
