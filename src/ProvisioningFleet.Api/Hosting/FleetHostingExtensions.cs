using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.OpenApi;
using ProvisioningFleet.Api.Storage;
using Scalar.AspNetCore;

namespace ProvisioningFleet.Api.Hosting;

/// <summary>What every resource relies on: problem details, JSON, health, and the API description.</summary>
public static class FleetHostingExtensions
{
    public static IHostApplicationBuilder AddFleetHosting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions.TryAdd("traceId", context.HttpContext.TraceIdentifier));
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        // Binding failures throw, so that ProblemExceptionHandler answers them as problems naming the field.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.Configure<JsonOptions>(options =>
        {
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(allowIntegerValues: false));
            options.SerializerOptions.Converters.Add(new NulRefusingStringConverter());
            // Which of two values would win is the serializer's choice, not the caller's: refuse instead of guessing.
            options.SerializerOptions.AllowDuplicateProperties = false;
        });

        // Read (and refused when wrong) now, so that a mistyped proxy address stops start-up, not the first request.
        var proxies = builder.Configuration.GetSection(ProxyOptions.Section).Get<ProxyOptions>() ?? new ProxyOptions();
        proxies.ApplyTo(new ForwardedHeadersOptions());
        builder.Services.Configure<ForwardedHeadersOptions>(proxies.ApplyTo);
        builder.Services.AddHsts(options => options.MaxAge = TimeSpan.FromDays(365));

        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "ProvisioningFleet";
            document.Info.Description = "Finds and fixes ConfigMgr clients stuck in provisioning mode. Authenticate with the X-Api-Key header.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["ApiKey"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "X-Api-Key",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiKey", document)] = [] }];
            return Task.CompletedTask;
        }));

        return builder;
    }

    public static WebApplication UseFleetHosting(this WebApplication app)
    {
        // First, so that everything after it (HSTS, cookies, rate limits, audit) sees the client, not the proxy.
        app.UseForwardedHeaders();
        if (!app.Environment.IsDevelopment())
        {
            // Sent on HTTPS answers only (directly or through a known proxy), never for localhost.
            app.UseHsts();
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseNulCharacterRefusal();
        // Typed results such as NotFound<ProblemDetails> write their problem as application/json;
        // every error body of this API is a problem, so label it as one (RFC 9457).
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                if (context.Response.StatusCode >= 400 && context.Response.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
                {
                    context.Response.ContentType = "application/problem+json";
                }

                return Task.CompletedTask;
            });
            return next(context);
        });
        return app;
    }

    public static IEndpointRouteBuilder MapFleetHealthAndDocs(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResponseWriter = WriteReadinessAsync,
        }).AllowAnonymous();
        endpoints.MapOpenApi().AllowAnonymous();
        endpoints.MapScalarApiReference(options => options
                .WithTitle("ProvisioningFleet API")
                .AddPreferredSecuritySchemes("ApiKey"))
            .AllowAnonymous();
        return endpoints;
    }

    // An orchestrator or load balancer polling readiness is told when to look again, as an API caller is by a 503.
    private static Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        if (report.Status == HealthStatus.Unhealthy)
        {
            context.Response.Headers.RetryAfter = DatabaseUnavailable.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(report.Status.ToString(), context.RequestAborted);
    }
}
