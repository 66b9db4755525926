using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Cim.Mi;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.WsMan.Tests.CimSessions;

/// <summary>What can be checked of the Windows CIM stack adapter on any OS: option mapping, error mapping, value conversion, the refusal off Windows.</summary>
public class MiCimSessionTests
{
    private static readonly CimCredential Credential = new("svc", "pw", "CORP");

    [Fact]
    public async Task Off_Windows_every_call_is_refused_as_Configuration()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        await using var session = new MiCimSessionFactory(new MiSessionSettings())
            .Open(new CimTarget("pc-1", CimTarget.DefaultEndpoint("pc-1", CimTransport.Http), CimTransport.Http, CimAuthentication.Negotiate, Credential));

        var error = await Assert.ThrowsAsync<CimException>(() => session.QueryAsync("root/cimv2", "SELECT * FROM Win32_Process", 10, CancellationToken.None));

        Assert.Equal(CimErrorCategory.Configuration, error.Category);
        Assert.Contains("Windows", error.Message);
    }

    [Theory]
    [InlineData(CimTransport.Http, CimAuthentication.Negotiate, 5985u, false, "Negotiate")]
    [InlineData(CimTransport.Https, CimAuthentication.Kerberos, 5986u, true, "Kerberos")]
    [InlineData(CimTransport.Http, CimAuthentication.Ntlm, 5985u, false, "NtlmDomain")]
    [InlineData(CimTransport.Https, CimAuthentication.Basic, 5986u, true, "Basic")]
    public void WsMan_plans_follow_the_target(CimTransport transport, CimAuthentication authentication, uint port, bool ssl, string mechanism)
    {
        var plan = MiSessionPlan.For(new CimTarget("pc-1.corp", CimTarget.DefaultEndpoint("pc-1.corp", transport), transport, authentication, Credential),
            new MiSessionSettings { OperationTimeout = TimeSpan.FromSeconds(12) });

        Assert.Equal(MiProtocol.WsMan, plan.Protocol);
        Assert.Equal("pc-1.corp", plan.ComputerName);
        Assert.Equal(port, plan.Port);
        Assert.Equal(ssl, plan.UseSsl);
        Assert.False(plan.NoEncryption);
        Assert.Null(plan.HttpUrlPrefix);
        Assert.Equal(mechanism, plan.Mechanism.ToString());
        Assert.Equal(TimeSpan.FromSeconds(12), plan.OperationTimeout);
        Assert.Same(Credential, plan.Credential);
    }

    [Fact]
    public void A_custom_listener_path_and_port_are_kept()
    {
        var plan = MiSessionPlan.For(
            new CimTarget("pc-1", new Uri("http://10.0.0.5:8080/custom/wsman"), CimTransport.Http, CimAuthentication.Negotiate, null),
            new MiSessionSettings());

        Assert.Equal("10.0.0.5", plan.ComputerName);
        Assert.Equal(8080u, plan.Port);
        Assert.Equal("custom/wsman", plan.HttpUrlPrefix);
        Assert.Null(plan.Credential);
    }

    [Fact]
    public void Basic_over_HTTP_needs_AllowUnencrypted_and_then_turns_encryption_off()
    {
        var target = new CimTarget("pc-1", CimTarget.DefaultEndpoint("pc-1", CimTransport.Http), CimTransport.Http, CimAuthentication.Basic, Credential);

        Assert.Equal(CimErrorCategory.Configuration, Assert.Throws<CimException>(() => MiSessionPlan.For(target, new MiSessionSettings())).Category);
        Assert.True(MiSessionPlan.For(target, new MiSessionSettings { AllowUnencrypted = true }).NoEncryption);
    }

    [Fact]
    public void Dcom_plans_ignore_the_WS_Man_endpoint_and_refuse_Basic()
    {
        var settings = new MiSessionSettings { Protocol = MiProtocol.Dcom };
        var plan = MiSessionPlan.For(new CimTarget("pc-1", CimTarget.DefaultEndpoint("pc-1", CimTransport.Https), CimTransport.Https, CimAuthentication.Ntlm, Credential), settings);

        Assert.Equal(MiProtocol.Dcom, plan.Protocol);
        Assert.Equal("pc-1", plan.ComputerName);
        Assert.Null(plan.Port);
        Assert.False(plan.UseSsl);
        Assert.Equal(MiAuthenticationMechanism.NtlmDomain, plan.Mechanism);
        Assert.Equal(CimErrorCategory.Configuration, Assert.Throws<CimException>(() => MiSessionPlan.For(
            new CimTarget("pc-1", CimTarget.DefaultEndpoint("pc-1", CimTransport.Http), CimTransport.Http, CimAuthentication.Basic, Credential), settings)).Category);
    }

    [Theory]
    [InlineData("Failed", 0x8004100EL, CimErrorCategory.NotFound)]
    [InlineData("InvalidNamespace", null, CimErrorCategory.NotFound)]
    [InlineData("InvalidClass", null, CimErrorCategory.NotFound)]
    [InlineData("AccessDenied", null, CimErrorCategory.AccessDenied)]
    [InlineData("Failed", 0x80070005L, CimErrorCategory.AccessDenied)]
    [InlineData("Failed", 0x80338126L, CimErrorCategory.Network)]
    [InlineData("Failed", 0x800706BAL, CimErrorCategory.Network)]
    [InlineData("Failed", 0x80338029L, CimErrorCategory.Timeout)]
    [InlineData("Failed", 0x80041001L, CimErrorCategory.Fault)]
    public void MI_errors_map_to_contract_categories_keeping_the_code(string native, long? code, CimErrorCategory expected)
    {
        var error = MiErrors.Map(native, code, "failed");

        Assert.Equal(expected, error.Category);
        Assert.Equal(code, error.Code);
        Assert.Contains(native, error.Message);
    }

    [Fact]
    public void In_parameters_keep_their_types_for_MI()
    {
        Assert.Equal(false, MiValues.ToMiValue(CimValue.From(false)));
        Assert.Equal(2147483650u, MiValues.ToMiValue(CimValue.From(2147483650UL)));
        // StdRegProv declares hDefKey uint32: the engine's parameter must reach MI as one, never as an Int64.
        Assert.Equal(2147483650u, MiValues.ToMiValue(CimParameter.Of("hDefKey", ProvisioningFleet.Core.Probing.ConfigMgrClient.HKeyLocalMachine).Value));
        Assert.Equal(42, MiValues.ToMiValue(CimValue.From(42L)));
        Assert.Equal(-5_000_000_000L, MiValues.ToMiValue(CimValue.From(-5_000_000_000L)));
        Assert.Equal("true", MiValues.ToMiValue(CimValue.From("true")));
        Assert.Null(MiValues.ToMiValue(CimValue.Null));
        Assert.Equal(new DateTime(2026, 11, 25, 10, 0, 0, DateTimeKind.Utc), MiValues.ToMiValue(CimValue.From(new DateTimeOffset(2026, 11, 25, 11, 0, 0, TimeSpan.FromHours(1)))));
        Assert.Equal(new[] { "a", "b" }, MiValues.ToMiValue(CimValue.Array([CimValue.From("a"), CimValue.From("b")])));
        Assert.Equal(new[] { 1u, 2u }, MiValues.ToMiValue(CimValue.Array([CimValue.From(1UL), CimValue.From(2UL)])));
    }

    [Fact]
    public void MI_values_become_CIM_values()
    {
        Assert.True(MiValues.ToCimValue(null, _ => null).IsNull);
        Assert.Equal(4312u, MiValues.ToCimValue(4312u, _ => null).AsUInt32());
        Assert.True(MiValues.ToCimValue(true, _ => null).AsBoolean());
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero),
            MiValues.ToCimValue(new DateTime(2026, 11, 25, 8, 0, 0, DateTimeKind.Utc), _ => null).AsDateTime());
        Assert.Equal(["x", "y"], MiValues.ToCimValue(new[] { "x", "y" }, _ => null).Items.Select(v => v.AsString()));
        Assert.Equal([1L, 11L], MiValues.ToCimValue(new uint[] { 1, 11 }, _ => null).Items.Select(v => v.AsInt64()!.Value));
    }
}
