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
}
