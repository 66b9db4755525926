using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.Api.Demo;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.InventorySources;
using ProvisioningFleet.Api.Observability;
using ProvisioningFleet.Api.Operators;
using ProvisioningFleet.Api.Storage;

AppDomain.CurrentDomain.UnhandledException += FleetConfigurationException.ExitWithMessage;

var builder = WebApplication.CreateBuilder(DemoMode.HostArguments(args));
builder.AddFleetHosting();
await builder.AddFleetDataAsync();
builder.AddFleetAudit();
builder.AddFleetAuthentication();
builder.AddFleetCredentials();
builder.AddFleetInventory();
builder.AddProvisioningEngine();
builder.AddInventorySources();
builder.AddFleetObservability();
builder.AddDemoFleet();

var app = builder.Build();
app.UseFleetHosting();
app.UseFleetAuthentication();

app.MapFleetHealthAndDocs();
app.MapSignInPages();
app.MapKeyApi();
app.MapAuditApi();
app.MapCredentialApi();
app.MapDeviceApi();
app.MapProvisioningEngineApi();
app.MapInventorySourceEndpoints();
app.MapFleetMetrics();
app.MapOperatorsUi();

app.Run();

public partial class Program;
