namespace ProvisioningFleet.Api.Lists;

/// <summary>Every list answers in this shape (api.md, "Lists").</summary>
public sealed record PagedList<T>(IReadOnlyList<T> Items, int Total, int Page, int PageSize);
