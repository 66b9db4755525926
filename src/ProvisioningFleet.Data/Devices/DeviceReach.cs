namespace ProvisioningFleet.Data.Devices;

/// <summary>
/// Where and how a device's credential goes. A change of it is audited on its own (action <see cref="ChangeAction"/>,
/// <c>before</c> and <c>after</c>), whoever makes it: a PUT, an import, an inventory sync.
/// </summary>
public sealed record DeviceReach(string Endpoint, string Transport, string Authentication, string? Credential, string? Spn)
{
    public const string ChangeAction = "device.endpointChange";

    /// <summary>
    /// One statement that audits every device whose reach the staged rows (<paramref name="staged"/>, aliased <c>s</c>) would
    /// change, before they are written: parameters <c>@now</c> and <c>@actor</c>. The details have the shape of
    /// <see cref="DeviceReach"/> as the audit trail writes it (camelCase).
    /// </summary>
    internal static string AuditChangesSql(string staged, string joinOnDevice, string stagedSpn) => $"""
        INSERT INTO audit_entries (at, actor, action, target, details)
        SELECT @now, @actor, '{ChangeAction}', 'device:' || d.host_name,
               jsonb_build_object(
                   'before', jsonb_build_object('endpoint', d.endpoint, 'transport', d.transport, 'authentication', d.authentication,
                                                'credential', oc.name, 'spn', d.service_principal_name),
                   'after', jsonb_build_object('endpoint', s.endpoint, 'transport', s.transport, 'authentication', s.authentication,
                                               'credential', nc.name, 'spn', {stagedSpn}))
        FROM {staged} s
        JOIN devices d ON {joinOnDevice}
        LEFT JOIN credentials oc ON oc.id = d.credential_id
        LEFT JOIN credentials nc ON nc.id = s.credential_id
        WHERE (d.endpoint, d.transport, d.authentication, d.credential_id, d.service_principal_name)
              IS DISTINCT FROM (s.endpoint, s.transport, s.authentication, s.credential_id, {stagedSpn})
        """;
}
