using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Demo;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Api.Fleet;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.InventorySources;
using ProvisioningFleet.Api.Jobs;
using ProvisioningFleet.Api.Keys;
using ProvisioningFleet.Api.Notifications;
using ProvisioningFleet.Api.Observability;
using ProvisioningFleet.Api.Operators;
using ProvisioningFleet.Api.Policy;
using ProvisioningFleet.Api.Remediations;
using ProvisioningFleet.Api.Storage;
using ProvisioningFleet.Api.Sweeps;

AppDomain.CurrentDomain.UnhandledException += FleetConfigurationException.ExitWithMessage;

var builder = WebApplication.CreateBuilder(DemoMode.HostArguments(args));
builder.AddFleetHosting();
await builder.AddDemoModeAsync();
builder.AddFleetData(createDatabase: builder.Configuration.IsDemo());
builder.AddFleetAudit();
builder.AddFleetAuthentication();
builder.AddFleetCredentials();
builder.AddFleetInventory();
builder.AddProvisioningEngine();
builder.AddFleetJobs();
builder.AddRemediations();
builder.AddSweeps();
builder.AddFleetSummary();
builder.AddNotifications();
builder.AddInventorySources();
builder.AddFleetObservability();
builder.AddDemoFleet();

var app = builder.Build();
app.UseFleetHosting();
app.UseContentSecurityPolicy();
app.UseFleetAuthentication();

app.MapFleetHealthAndDocs();
app.MapSignInEndpoints();
app.MapKeyEndpoints();
app.MapAuditEndpoints();
app.MapCredentialEndpoints();
app.MapDeviceEndpoints();
app.MapDeviceVerdictEndpoints();
app.MapRemediationEndpoints();
app.MapSweepEndpoints();
app.MapFleetSummaryEndpoints();
app.MapPolicyEndpoints();
app.MapNotificationEndpoints();
app.MapInventorySourceEndpoints();
app.MapFleetMetrics();
app.MapOperatorsUi();

app.Run();

public partial class Program;
