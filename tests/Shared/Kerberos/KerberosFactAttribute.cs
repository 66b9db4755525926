namespace ProvisioningFleet.Testing.Kerberos;

/// <summary>A test that needs the MIT KDC tools; skipped, saying what to install, where they are missing.</summary>
public sealed class KerberosFactAttribute : FactAttribute
{
    public KerberosFactAttribute()
    {
        if (TestRealm.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A theory that needs the MIT KDC tools.</summary>
public sealed class KerberosTheoryAttribute : TheoryAttribute
{
    public KerberosTheoryAttribute()
    {
        if (TestRealm.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
