namespace ProvisioningFleet.Api.Tests.Deployment;

/// <summary>docker-compose.yml is not run here (no Docker engine); it is parsed and checked against the Dockerfile and the service.</summary>
public sealed class ComposeFileTests
{
    private static readonly Dictionary<object, object> Compose = RepositoryFiles.ReadYaml("docker-compose.yml").Single();
    private static readonly Dockerfile Dockerfile = Dockerfile.Parse(RepositoryFiles.Read("Dockerfile"));

    private static Dictionary<object, object> Service(string name) => Compose.Map("services", name);

    [Fact]
    public void PostgreSQL_is_health_checked_and_the_service_waits_for_it()
    {
        Assert.Contains("pg_isready", string.Join(' ', Service("postgres").List("healthcheck", "test")));
        Assert.Equal("service_healthy", Service("api").Text("depends_on", "postgres", "condition"));
    }

    [Fact]
    public void The_service_reaches_the_compose_database_with_the_compose_credentials()
    {
        var connection = Service("api").Text("environment", "ConnectionStrings__Fleet");
        var parts = connection.Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var postgres = Service("postgres").Map("environment");
        Assert.True(Compose.Map("services").ContainsKey(parts["Host"]));
        Assert.Equal(postgres["POSTGRES_DB"], parts["Database"]);
        Assert.Equal(postgres["POSTGRES_USER"], parts["Username"]);
        Assert.Equal(postgres["POSTGRES_PASSWORD"], parts["Password"]);
    }

    [Fact]
    public void No_admin_key_ships_in_the_file_and_the_port_is_published_on_loopback_only()
    {
        // Unset, the service generates a key into the admin-key volume, which the seed reads.
        Assert.Equal("${FLEET_ADMIN_API_KEY:-}", Service("api").Text("environment", "FLEET_ADMIN_API_KEY"));
        var keyFile = Service("api").Text("environment", "Fleet__AdminKeyFile");
        var apiMount = Service("api").List("volumes").Cast<string>().Select(v => v.Split(':')).Single(v => v[0] == "admin-key");
        Assert.StartsWith(apiMount[1] + "/", keyFile);
        var seedMount = Service("seed").List("volumes").Cast<string>().Select(v => v.Split(':')).Single(v => v[0] == "admin-key");
        Assert.Contains($"cat {seedMount[1]}/{Path.GetFileName(keyFile)}", Service("seed").List("command").Cast<string>().Single());
        Assert.StartsWith("127.0.0.1:", Service("api").List("ports").Cast<string>().Single());
    }

    [Theory]
    [InlineData("api")]
    [InlineData("simulator")]
    public void Built_services_name_a_stage_of_the_repository_Dockerfile(string service)
    {
        var build = Service(service).Map("build");
        Assert.True(File.Exists(RepositoryFiles.PathOf(Path.Combine(build.Text("context"), build.Text("dockerfile")))));
        Assert.Contains(build.Text("target"), Dockerfile.Stages);
    }

    [Fact]
    public void The_published_port_is_the_port_the_service_listens_on()
    {
        var published = Service("api").List("ports").Cast<string>().Single();
        Assert.EndsWith($":{DeploymentPorts.Http}", published);
        Assert.Equal(DeploymentPorts.Http.ToString(), Service("api").Text("environment", "ASPNETCORE_HTTP_PORTS"));
    }

    [Fact]
    public void The_seed_rewrites_the_exported_endpoints_to_the_simulator_service_and_port()
    {
        var arguments = Service("simulator").List("command").Cast<string>().ToList();
        var port = arguments[arguments.IndexOf("--http-port") + 1];
        var export = arguments[arguments.IndexOf("--export-csv") + 1];
        var script = Service("seed").List("command").Cast<string>().Single();
        Assert.Contains($"http://simulator:{port}/", script);
        Assert.Contains($"/shared/{Path.GetFileName(export)}", script);

        var simulatorVolume = Service("simulator").List("volumes").Cast<string>().Single().Split(':');
        Assert.Equal(Path.GetDirectoryName(export), simulatorVolume[1]);
        Assert.Contains(Service("seed").List("volumes").Cast<string>(), v => v.StartsWith(simulatorVolume[0] + ":/shared", StringComparison.Ordinal));
        Assert.Contains(Dockerfile.In("simulator"), i => i.Keyword == "RUN" && i.Arguments.Contains(simulatorVolume[1]));
        Assert.Contains(Dockerfile.In("simulator"), i => i.Keyword == "EXPOSE" && i.Arguments == port);
    }

    [Fact]
    public void The_service_reads_the_key_ring_certificate_the_keyring_step_writes_with_the_same_password()
    {
        var api = Service("api");
        var keyring = Service("keyring");
        Assert.Equal("service_completed_successfully", api.Text("depends_on", "keyring", "condition"));
        var certificate = api.Text("environment", "Fleet__DataProtection__CertificatePath");
        var keyringVolume = keyring.List("volumes").Cast<string>().Single().Split(':');
        var apiMount = api.List("volumes").Cast<string>().Select(v => v.Split(':')).Single(v => v[0] == keyringVolume[0]);
        Assert.StartsWith(apiMount[1] + "/", certificate);
        var script = keyring.List("command").Cast<string>().Single();
        Assert.Contains($"-out {keyringVolume[1]}/{Path.GetFileName(certificate)}", script);
        Assert.Equal(keyring.Text("environment", "KEYRING_PASSWORD"), api.Text("environment", "Fleet__DataProtection__CertificatePassword"));
        // Readable by the image's non-root user only.
        Assert.Contains("chown 1654:1654", script);
    }

    [Fact]
    public void The_seed_calls_endpoints_of_the_contract_with_the_admin_key()
    {
        var script = Service("seed").List("command").Cast<string>().Single();
        foreach (var path in new[] { "/health/ready", "/api/v1/credentials", "/api/v1/devices/import", "/api/v1/sweeps" })
        {
            Assert.Contains("$$SERVICE" + path, script);
        }
        Assert.Contains("X-Api-Key: $$FLEET_ADMIN_API_KEY", script);
        Assert.Equal(Service("api").Text("environment", "FLEET_ADMIN_API_KEY"), Service("seed").Text("environment", "FLEET_ADMIN_API_KEY"));
    }
}
