using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Validation;

namespace ProvisioningFleet.Api.Tests.Paging;

public sealed class PageRequestTests
{
    [Theory]
    [InlineData("4294969", "500")]
    [InlineData("4294969", "1")]
    [InlineData("2147483647", "50")]
    [InlineData("1000001", "500")]
    public void A_page_past_the_bound_is_a_validation_error_naming_page(string page, string pageSize)
    {
        var errors = new ValidationErrors();
        var request = PageRequest.Parse(page, pageSize, errors);
        Assert.True(errors.Any);
        Assert.True(request.Skip >= 0);
    }

    [Fact]
    public void Every_accepted_page_has_a_non_negative_offset()
    {
        var errors = new ValidationErrors();
        var last = PageRequest.Parse(PageRequest.MaxPage.ToString(), PageRequest.MaxPageSize.ToString(), errors);
        Assert.False(errors.Any);
        Assert.True(last.Skip > 0);
    }

    [Fact]
    public async Task A_list_of_a_parent_s_children_checks_the_paging_before_the_parent_and_the_parent_before_reading_a_page()
    {
        var parentAsked = false;
        var parentNotFound = TypedResults.NotFound(new ProblemDetails { Title = "Parent not found" });
        Task<bool> Missing(CancellationToken _)
        {
            parentAsked = true;
            return Task.FromResult(false);
        }

        // Neither answer reads the children: a plain in-memory query would fail if it were counted asynchronously.
        var badPaging = await PageRequest.ListAsync(
            "0", null, Missing, parentNotFound, Array.Empty<int>().AsQueryable(), children => children.OrderBy(c => c), c => c, CancellationToken.None);
        Assert.IsType<ValidationProblem>(badPaging.Result);
        Assert.False(parentAsked);

        var missingParent = await PageRequest.ListAsync(
            null, null, Missing, parentNotFound, Array.Empty<int>().AsQueryable(), children => children.OrderBy(c => c), c => c, CancellationToken.None);
        Assert.Same(parentNotFound, missingParent.Result);
        Assert.True(parentAsked);
    }
}
