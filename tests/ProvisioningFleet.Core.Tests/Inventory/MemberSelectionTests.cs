using ProvisioningFleet.Core.Inventory;

namespace ProvisioningFleet.Core.Tests.Inventory;

public sealed class MemberSelectionTests
{
    private static CollectionMember Member(long id, string name, bool active = true, bool obsolete = false, bool decommissioned = false, bool client = true, string? smsId = null) =>
        new() { ResourceId = id, Name = name, IsActive = active, IsObsolete = obsolete, IsDecommissioned = decommissioned, IsClient = client, SmsId = smsId ?? $"GUID:{id}" };

    private static SystemRecord System(long id, params string[] names) => new() { ResourceId = id, ResourceNames = names };

    [Fact]
    public void Every_skip_reason_and_the_active_duplicate_wins()
    {
        CollectionMember[] members =
        [
            Member(1, "PC-OK"),
            Member(2, "PC-OLD", obsolete: true),
            Member(3, "PC-GONE", decommissioned: true),
            Member(4, "PRINTER", client: false),
            Member(5, "PC-REIMAGED", active: false),
            Member(6, "PC-REIMAGED"),
            Member(7, "PC-TWINS"),
            Member(8, "PC-TWINS"),
            Member(9, "PC-NODNS"),
            Member(10, "PC-X"),
            Member(11, "PC-Y"),
            Member(1, "PC-OK"),
        ];
        var systems = new Dictionary<long, SystemRecord>
        {
            [1] = System(1, "pc-ok.corp.example"),
            [5] = System(5, "pc-reimaged.corp.example"),
            [6] = System(6, "pc-reimaged.corp.example"),
            [7] = System(7, "pc-twins.corp.example"),
            [8] = System(8, "pc-twins.corp.example"),
            [9] = System(9),
            [10] = System(10, "shared.corp.example"),
            [11] = System(11, "SHARED.corp.example"),
        };

        var (selected, skipped) = MemberSelection.Select(members, systems);

        Assert.Equal([(1L, "pc-ok.corp.example", "GUID:1"), (6L, "pc-reimaged.corp.example", "GUID:6")],
            selected.Select(s => (s.ResourceId, s.Fqdn, s.SmsId)).OrderBy(s => s.ResourceId));
        Assert.Equal(
            [(2L, MemberSelection.Obsolete), (3L, MemberSelection.Decommissioned), (4L, MemberSelection.NotAClient), (5L, MemberSelection.Duplicate),
             (7L, MemberSelection.Duplicate), (8L, MemberSelection.Duplicate), (9L, MemberSelection.NoDnsName), (10L, MemberSelection.Duplicate), (11L, MemberSelection.Duplicate)],
            skipped.Select(s => (s.ResourceId, s.Reason)).OrderBy(s => s.ResourceId));
        Assert.Contains("ResourceID 6", skipped.Single(s => s.ResourceId == 5).Detail);
        Assert.Contains("none is taken", skipped.Single(s => s.ResourceId == 7).Detail);
    }

    [Fact]
    public void The_site_record_identity_is_used_when_the_membership_has_none()
    {
        var member = Member(1, "PC-1") with { SmsId = null };
        var (selected, _) = MemberSelection.Select([member],
            new Dictionary<long, SystemRecord> { [1] = System(1, "pc-1.corp.example") with { SmsUniqueIdentifier = "GUID:FROM-SYSTEM" } });
        Assert.Equal("GUID:FROM-SYSTEM", Assert.Single(selected).SmsId);
    }
}
