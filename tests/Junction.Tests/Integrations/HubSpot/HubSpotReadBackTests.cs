using Junction.Audit;
using Junction.Integrations.HubSpot;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Integrations.HubSpot;

/// <summary>The HubSpot read-back against the stateful fake: cursor pages, mapped tags only, refused token (429 waits are ReadBackHttp's, tested with the other read-backs).</summary>
public sealed class HubSpotReadBackTests
{
    private const string Paid = "Paid: Course Pro";

    private int _gated;

    private static IDestinationReadBack ReadBack(FakeHubSpot hub, string token = FakeHubSpot.Token) =>
        HubSpotDestination.CreateReadBack(DestConfig(HubSpotDestination.Type, hub.BaseUrl, new() { [HubSpotDestination.AccessToken] = token }) with
        {
            Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["paid:course-pro"] = Paid, ["customer"] = "Customer" },
        }, Http(), TimeProvider.System);

    private ValueTask Gate(CancellationToken _)
    {
        Interlocked.Increment(ref _gated);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task FiveContacts_InPagesOfTwo_AreAllRead_WithOnlyTheMappedTags()
    {
        await using var hub = await FakeHubSpot.StartAsync();
        hub.PageSize = 2;
        hub.AddContact("a@example.com", (FakeHubSpot.TagsProperty, Paid + ";Customer"));
        hub.AddContact("B@Example.com", (FakeHubSpot.TagsProperty, "Customer;VIP by hand"));
        hub.AddContact("c@example.com");
        hub.AddContact("d@example.com", (FakeHubSpot.TagsProperty, Paid));
        hub.AddContact("e@example.com", ("firstname", "Eve"));

        var read = await ReadBack(hub).ReadAsync(Gate, CancellationToken.None);

        Assert.False(read.CoversSubscriptions);
        Assert.Equal(5, read.Contacts.Count);
        Assert.Equal(["Customer", Paid], read.Contacts["a@example.com"].Tags.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["Customer"], read.Contacts["b@example.com"].Tags.Keys);
        Assert.Empty(read.Contacts["c@example.com"].Tags);
        Assert.Equal([Paid], read.Contacts["d@example.com"].Tags.Keys);
        var pages = hub.Api.Requests.Where(r => r.Request.StartsWith("GET /crm/v3/objects/contacts?", StringComparison.Ordinal)).Select(r => r.Request).ToList();
        Assert.Equal(3, pages.Count);
        Assert.Contains("after=", pages[^1], StringComparison.Ordinal);
        Assert.Equal((3, 3), (read.ApiCalls, _gated));
    }

    [Fact]
    public async Task RefusedToken_EndsTheRead_NamingTheCredentials()
    {
        await using var hub = await FakeHubSpot.StartAsync();

        var e = await Assert.ThrowsAsync<ReadBackException>(() => ReadBack(hub, "pat-wrong").ReadAsync(Gate, CancellationToken.None));

        Assert.Contains("credentials", e.Message, StringComparison.Ordinal);
    }
}
