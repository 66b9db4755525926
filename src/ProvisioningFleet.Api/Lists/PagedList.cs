namespace ProvisioningFleet.Api.Lists;

/// <summary>
/// Every list answers in this shape (api.md, "Lists"). <see cref="Total"/> is exact up to
/// <see cref="PageRequest.ExactTotalUpTo"/>; past it <see cref="TotalExact"/> is false and the total is a lower bound.
/// </summary>
public sealed record PagedList<T>(IReadOnlyList<T> Items, int Total, int Page, int PageSize, bool TotalExact);
