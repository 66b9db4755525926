using ProvisioningFleet.Simulator.Cim;

namespace ProvisioningFleet.Simulator.Tests;

public sealed class WqlQueryTests
{
    private static readonly SimInstance TsManager = new("root/cimv2", "Win32_Process",
        [new("Name", "TSManager.exe"), new("ProcessId", 4242u), new("CommandLine", null)]);

    [Theory]
    [InlineData("SELECT * FROM Win32_Process WHERE Name = 'tsmanager.exe'", true)]
    [InlineData("select Name from Win32_Process where Name=\"SetupHost.exe\" or Name='TSManager.exe'", true)]
    [InlineData("SELECT Name FROM Win32_Process WHERE Name='TSManager.exe' AND ProcessId > 5000", false)]
    [InlineData("SELECT Name FROM Win32_Process WHERE ProcessId >= 4242 AND NOT (Name <> 'TSManager.exe')", true)]
    [InlineData("SELECT Name FROM Win32_Process WHERE Name LIKE 'TS%.exe'", true)]
    [InlineData("SELECT Name FROM Win32_Process WHERE CommandLine IS NULL", true)]
    [InlineData("SELECT Name FROM Win32_Process WHERE CommandLine IS NOT NULL", false)]
    public void Conditions_evaluate_like_WQL(string text, bool matches)
    {
        var query = WqlQuery.Parse(text);

        Assert.Equal("Win32_Process", query.ClassName);
        Assert.Equal(matches, query.Matches(TsManager));
    }

    [Fact]
    public void The_select_list_and_referenced_properties_are_reported()
    {
        var query = WqlQuery.Parse("SELECT Name, ProcessId FROM Win32_Process WHERE Handle = '4'");

        Assert.Equal(["Name", "ProcessId"], query.Properties);
        Assert.Equal(["Name", "ProcessId", "Handle"], query.Referenced);
    }

    [Theory]
    [InlineData("")]
    [InlineData("SELECT FROM Win32_Process")]
    [InlineData("SELECT * Win32_Process")]
    [InlineData("SELECT * FROM Win32_Process WHERE")]
    [InlineData("SELECT * FROM Win32_Process WHERE Name = ")]
    [InlineData("SELECT * FROM Win32_Process WHERE Name = 'x' OR")]
    [InlineData("SELECT * FROM Win32_Process WHERE (Name = 'x'")]
    [InlineData("SELECT * FROM Win32_Process WHERE Name = 'unterminated")]
    [InlineData("SELECT * FROM Win32_Process; DROP TABLE x")]
    [InlineData("SELECT * FROM Win32_Process WHERE Name = Other")]
    public void Anything_outside_the_subset_is_rejected(string text)
    {
        Assert.Throws<FormatException>(() => WqlQuery.Parse(text));
    }
}
