using System.Text.RegularExpressions;

namespace ProvisioningFleet.Api.Tests.Deployment;

/// <summary>
/// The manifests are not applied to a cluster here (none runs); these parse every file and check the
/// references between them and to the service: names, keys, ports, probe paths, replicas, user.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    private const string Folder = "deploy/kubernetes";

    private static readonly IReadOnlyList<Dictionary<object, object>> Objects = LoadAll();

    private static Dictionary<object, object> Deployment =>
        Objects.Single(o => o.Text("kind") == "Deployment" && o.Text("metadata", "name") == "provisioning-fleet");

    private static Dictionary<object, object> ApiContainer => Deployment.Map("spec", "template", "spec", "containers", 0);

    [Fact]
    public void Every_resource_of_the_kustomization_exists_and_parses_to_kubernetes_objects()
    {
        Assert.NotEmpty(Objects);
        Assert.All(Objects, o =>
        {
            Assert.False(string.IsNullOrEmpty(o.Text("apiVersion")));
            Assert.False(string.IsNullOrEmpty(o.Text("kind")));
            Assert.False(string.IsNullOrEmpty(o.Text("metadata", "name")));
        });
        var inFolder = Directory.GetFiles(RepositoryFiles.PathOf(Folder), "*.yaml").Select(Path.GetFileName).Where(n => n != "kustomization.yaml");
        var listed = Kustomization.List("resources").Cast<string>();
        Assert.Equal(inFolder.Order(), listed.Order());
    }

    [Fact]
    public void At_least_two_replicas_run_the_service_image_as_non_root()
    {
        Assert.True(int.Parse(Deployment.Text("spec", "replicas")) >= 2);
        var imageNames = Kustomization.List("images").Select(i => i.Text("name"));
        Assert.Contains(ApiContainer.Text("image"), imageNames);
        Assert.Equal("true", Deployment.Text("spec", "template", "spec", "securityContext", "runAsNonRoot"));
        Assert.NotEqual("0", Deployment.Text("spec", "template", "spec", "securityContext", "runAsUser"));
        Assert.Equal("false", ApiContainer.Text("securityContext", "allowPrivilegeEscalation"));
    }

    [Fact]
    public void Probes_use_the_health_endpoints_on_the_container_port()
    {
        Assert.Equal("/health/live", ApiContainer.Text("livenessProbe", "httpGet", "path"));
        Assert.Equal("/health/ready", ApiContainer.Text("readinessProbe", "httpGet", "path"));
        var port = ApiContainer.List("ports").Single(p => p.Text("name") == "http");
        Assert.Equal(DeploymentPorts.Http.ToString(), port.Text("containerPort"));
        foreach (var probe in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
        {
            Assert.Equal("http", ApiContainer.Text(probe, "httpGet", "port"));
        }
        var env = Environment(ApiContainer);
        Assert.Equal(DeploymentPorts.Http.ToString(), env["ASPNETCORE_HTTP_PORTS"].Text("value"));

        var service = Objects.Single(o => o.Text("kind") == "Service" && o.Text("metadata", "name") == "provisioning-fleet");
        Assert.Equal("http", service.Text("spec", "ports", 0, "targetPort"));
        Assert.Equal(Deployment.Map("spec", "selector", "matchLabels").ToHashSet(), service.Map("spec", "selector").ToHashSet());
    }

    [Fact]
    public void The_connection_string_comes_from_a_secret_and_all_replicas_share_it()
    {
        var connection = Environment(ApiContainer)["ConnectionStrings__Fleet"];
        var reference = connection.Map("valueFrom", "secretKeyRef");
        var secret = Objects.Single(o => o.Text("kind") == "Secret" && o.Text("metadata", "name") == reference.Text("name"));
        var value = secret.Text("stringData", reference.Text("key"));
        Assert.Contains("Host=postgres", value);
        Assert.Contains(Objects, o => o.Text("kind") == "Service" && o.Text("metadata", "name") == "postgres");
    }

    [Fact]
    public void Every_secret_and_config_map_referenced_is_defined_here_or_its_creation_documented()
    {
        var documented = SecretCreation().Matches(RepositoryFiles.Read($"{Folder}/README.md")).Select(m => m.Groups["name"].Value).ToHashSet();
        var defined = Objects.Where(o => o.Text("kind") is "Secret" or "ConfigMap")
            .ToDictionary(o => (o.Text("kind"), o.Text("metadata", "name")));

        foreach (var container in Objects.Where(o => o.Text("kind") is "Deployment" or "StatefulSet")
                     .SelectMany(o => o.List("spec", "template", "spec", "containers")))
        {
            foreach (var variable in Environment(container).Values)
            {
                if (variable.Find("valueFrom", "secretKeyRef") is Dictionary<object, object> reference)
                {
                    AssertSecretKey(reference.Text("name"), reference.Text("key"), defined, documented);
                }
            }
        }

        var volumes = Deployment.List("spec", "template", "spec", "volumes").Cast<Dictionary<object, object>>().ToDictionary(v => v.Text("name"));
        foreach (var mount in ApiContainer.List("volumeMounts"))
        {
            Assert.True(volumes.ContainsKey(mount.Text("name")), $"volumeMount {mount.Text("name")} has no volume");
        }
        foreach (var volume in volumes.Values)
        {
            if (volume.Find("secret") is Dictionary<object, object> secret)
            {
                var keys = secret.Find("items") is List<object> items ? items.Select(i => i.Text("key")) : [];
                foreach (var key in keys.DefaultIfEmpty(""))
                {
                    AssertSecretKey(secret.Text("secretName"), key, defined, documented);
                }
            }
            if (volume.Find("configMap") is Dictionary<object, object> configMap)
            {
                Assert.True(defined.ContainsKey(("ConfigMap", configMap.Text("name"))), $"ConfigMap {configMap.Text("name")} is not defined");
            }
        }
    }

    [Fact]
    public void Kerberos_reads_the_mounted_configuration_and_client_keytab()
    {
        var env = Environment(ApiContainer);
        var mounts = ApiContainer.List("volumeMounts").Cast<Dictionary<object, object>>().ToList();
        Assert.Contains(mounts, m => m.Text("mountPath") == env["KRB5_CONFIG"].Text("value"));
        var keytab = env["KRB5_CLIENT_KTNAME"].Text("value");
        Assert.Contains(mounts, m => keytab.StartsWith(m.Text("mountPath") + "/", StringComparison.Ordinal));
        var configMap = Objects.Single(o => o.Text("kind") == "ConfigMap" && o.Text("metadata", "name") == "fleet-krb5");
        Assert.Contains("[libdefaults]", configMap.Text("data", "krb5.conf"));
        Assert.True(File.Exists(RepositoryFiles.PathOf("deploy/kerberos.md")));
    }

    [Fact]
    public void The_data_protection_certificate_is_mounted_from_a_secret_where_the_service_looks_for_it()
    {
        var path = Environment(ApiContainer)["Fleet__DataProtection__CertificatePath"].Text("value");
        var mount = ApiContainer.List("volumeMounts").Single(m => path.StartsWith(m.Text("mountPath") + "/", StringComparison.Ordinal));
        var volume = Deployment.List("spec", "template", "spec", "volumes").Single(v => v.Text("name") == mount.Text("name"));
        Assert.Contains(volume.List("secret", "items"), item => path.EndsWith("/" + item.Text("path"), StringComparison.Ordinal));
    }

    private static void AssertSecretKey(string name, string key, Dictionary<(string, string), Dictionary<object, object>> defined, HashSet<string> documented)
    {
        if (defined.TryGetValue(("Secret", name), out var secret))
        {
            Assert.True(key == "" || secret.Find("stringData", key) is not null || secret.Find("data", key) is not null, $"Secret {name} has no key {key}");
            return;
        }
        Assert.True(documented.Contains(name), $"Secret {name} is neither defined in {Folder} nor created by a documented kubectl command");
    }

    private static Dictionary<string, Dictionary<object, object>> Environment(object container) =>
        container.Find("env") is List<object> env
            ? env.Cast<Dictionary<object, object>>().ToDictionary(e => e.Text("name"))
            : [];

    private static Dictionary<object, object> Kustomization => RepositoryFiles.ReadYaml($"{Folder}/kustomization.yaml").Single();

    private static List<Dictionary<object, object>> LoadAll() =>
        Kustomization.List("resources").Cast<string>().SelectMany(file => RepositoryFiles.ReadYaml($"{Folder}/{file}")).ToList();

    [GeneratedRegex(@"kubectl[^\n]*create secret generic (?<name>[\w-]+)")]
    private static partial Regex SecretCreation();
}
