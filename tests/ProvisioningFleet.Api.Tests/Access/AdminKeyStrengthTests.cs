using ProvisioningFleet.Api.Access;

namespace ProvisioningFleet.Api.Tests.Access;

public sealed class AdminKeyStrengthTests
{
    [Theory]
    [InlineData("demo-admin-key-change-me")]                  // the old docker-compose default
    [InlineData("CHANGE-ME-to-a-long-random-value")]          // the Kubernetes Secret's placeholder
    [InlineData("0123456789abcdef")]                          // 16 characters used to be enough
    [InlineData("my-admin-password-for-the-fleet-service")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("0123456789abcdef0123456789abcdef")]
    public void Placeholders_short_and_repetitive_keys_are_refused(string key) =>
        Assert.NotNull(AdminKeyStrength.Weakness(key));

    [Fact]
    public void Random_keys_are_accepted()
    {
        for (var i = 0; i < 1000; i++)
        {
            Assert.Null(AdminKeyStrength.Weakness(ApiKeyStore.NewSecret()));
            Assert.Null(AdminKeyStrength.Weakness(Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24))));
        }
    }

    [Fact]
    public void A_generated_key_file_is_owner_only_from_the_start_and_kept_across_restarts()
    {
        var folder = Directory.CreateTempSubdirectory("provisioningfleet-adminkey-").FullName;
        try
        {
            var path = Path.Combine(folder, "nested", "admin-key.txt");
            var key = AdminKeyFile.ReadOrCreate(path);
            Assert.Null(AdminKeyStrength.Weakness(key));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }

            Assert.Equal(key, AdminKeyFile.ReadOrCreate(path));

            File.WriteAllText(path, "demo-admin-key-change-me");
            Assert.NotEqual("demo-admin-key-change-me", AdminKeyFile.ReadOrCreate(path));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
