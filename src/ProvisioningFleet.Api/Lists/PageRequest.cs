using System.Linq.Expressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Validation;

namespace ProvisioningFleet.Api.Lists;

/// <summary>
/// <c>page</c> (from 1 to <see cref="MaxPage"/>) and <c>pageSize</c> (default 50, at most 500), read from the raw query text so
/// that a bad value is a validation error naming the field rather than a binding failure.
/// </summary>
public readonly record struct PageRequest(int Page, int PageSize)
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    // Far past any real list, and low enough that the offset of the last page always fits in an int.
    public const int MaxPage = 1_000_000;

    /// <summary>
    /// Lists count their filtered set up to here, and say "at least" beyond: an exact count of a million devices
    /// reads a million index entries on every request (hundreds of milliseconds), this bound about ten thousand.
    /// </summary>
    public const int ExactTotalUpTo = 10_000;

    public int Skip => (Page - 1) * PageSize;

    public static PageRequest Parse(string? page, string? pageSize, ValidationErrors errors)
    {
        var pageNumber = 1;
        if (page is not null && (!int.TryParse(page, out pageNumber) || pageNumber < 1 || pageNumber > MaxPage))
        {
            errors.Add("page", $"page must be a whole number from 1 to {MaxPage}.");
            pageNumber = 1;
        }

        var size = DefaultPageSize;
        if (pageSize is not null && (!int.TryParse(pageSize, out size) || size < 1 || size > MaxPageSize))
        {
            errors.Add("pageSize", $"pageSize must be a whole number from 1 to {MaxPageSize}.");
            size = DefaultPageSize;
        }

        return new PageRequest(pageNumber, size);
    }

    /// <summary>One page of an ordered query and the total count of the filtered set.</summary>
    public async Task<PagedList<TView>> ToPagedListAsync<TEntity, TView>(
        IQueryable<TEntity> filtered,
        Func<IQueryable<TEntity>, IOrderedQueryable<TEntity>> order,
        Expression<Func<TEntity, TView>> view,
        CancellationToken cancellationToken)
    {
        var counted = await CountUpToBoundAsync(filtered, cancellationToken);
        var items = IsPastTheEnd(counted)
            ? []
            : await order(filtered).Skip(Skip).Take(PageSize).Select(view).ToListAsync(cancellationToken);
        return Answer(items, counted);
    }

    /// <summary>The set counted up to one past <see cref="ExactTotalUpTo"/>; pass it to <see cref="Answer"/>.</summary>
    public static Task<int> CountUpToBoundAsync<TEntity>(IQueryable<TEntity> filtered, CancellationToken cancellationToken) =>
        filtered.Take(ExactTotalUpTo + 1).CountAsync(cancellationToken);

    /// <summary>Whether this page starts past a set of <paramref name="counted"/> items (known only below the bound).</summary>
    private bool IsPastTheEnd(int counted) => counted <= ExactTotalUpTo && counted <= Skip;

    /// <summary>
    /// The page, with an exact total below the bound, else the least it can be: the bound, or the end of this page when
    /// it has items past the bound (an empty page past the bound proves nothing more).
    /// </summary>
    public PagedList<TView> Answer<TView>(IReadOnlyList<TView> items, int counted) =>
        counted <= ExactTotalUpTo
            ? new PagedList<TView>(items, counted, Page, PageSize, TotalExact: true)
            : new PagedList<TView>(items, items.Count == 0 ? ExactTotalUpTo : Math.Max(ExactTotalUpTo, Skip + items.Count), Page, PageSize, TotalExact: false);

    /// <summary>The whole answer of a list without filters: the paging parameters validated, then one page.</summary>
    public static async Task<Results<Ok<PagedList<TView>>, ValidationProblem>> ListAsync<TEntity, TView>(
        string? page,
        string? pageSize,
        IQueryable<TEntity> filtered,
        Func<IQueryable<TEntity>, IOrderedQueryable<TEntity>> order,
        Expression<Func<TEntity, TView>> view,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var paging = Parse(page, pageSize, errors);
        return errors.Any ? errors.ToProblem() : TypedResults.Ok(await paging.ToPagedListAsync(filtered, order, view, cancellationToken));
    }

    /// <summary>
    /// The whole answer of a list of one parent's children: the paging parameters validated, then
    /// <paramref name="parentNotFound"/> when the parent does not exist (an empty page would hide a wrong id), then one page.
    /// </summary>
    public static async Task<Results<Ok<PagedList<TView>>, ValidationProblem, NotFound<ProblemDetails>>> ListAsync<TEntity, TView>(
        string? page,
        string? pageSize,
        Func<CancellationToken, Task<bool>> parentExists,
        NotFound<ProblemDetails> parentNotFound,
        IQueryable<TEntity> children,
        Func<IQueryable<TEntity>, IOrderedQueryable<TEntity>> order,
        Expression<Func<TEntity, TView>> view,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var paging = Parse(page, pageSize, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        if (!await parentExists(cancellationToken))
        {
            return parentNotFound;
        }

        return TypedResults.Ok(await paging.ToPagedListAsync(children, order, view, cancellationToken));
    }
}
