namespace ProvisioningFleet.Api.Tests.Hosting;

/// <summary>A fact about behaviour only a host other than Windows shows; reported as skipped on Windows rather than passed.</summary>
public sealed class OffWindowsFactAttribute : FactAttribute
{
    public OffWindowsFactAttribute(string reason)
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = reason;
        }
    }
}
