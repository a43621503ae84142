using Junction.Audit;
using Junction.Integrations.Kajabi;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Integrations.Kajabi;

/// <summary>The Kajabi read-back against the stateful fake: each mapped offer's contacts by page, refused credentials.</summary>
public sealed class KajabiReadBackTests
{
    private int _gated;

    private static IDestinationReadBack ReadBack(FakeKajabi kajabi, string secret = FakeKajabi.ClientSecret) =>
        KajabiDestination.CreateReadBack(DestConfig(KajabiDestination.Type, kajabi.BaseUrl,
            new() { ["client_id"] = FakeKajabi.ClientId, ["client_secret"] = secret }, new() { ["site_id"] = FakeKajabi.SiteId }) with
        {
            Courses = new Dictionary<string, string>(StringComparer.Ordinal) { ["course-pro"] = "2150" },
        }, Http(), TimeProvider.System);

    private ValueTask Gate(CancellationToken _)
    {
        Interlocked.Increment(ref _gated);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task FiveHolders_InPagesOfTwo_AreAllRead_AndNoOtherOffer()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150", "3000");
        kajabi.PageSize = 2;
        for (var i = 1; i <= 5; i++) kajabi.AddContact($"User{i}@Example.com", "2150");
        kajabi.AddContact("other@example.com", "3000"); // an offer Junction does not manage
        kajabi.AddContact("lead@example.com");

        var read = await ReadBack(kajabi).ReadAsync(Gate, CancellationToken.None);

        Assert.False(read.CoversSubscriptions);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"user{i}@example.com"), read.Contacts.Keys.Order(StringComparer.Ordinal));
        Assert.All(read.Contacts.Values, c => Assert.Equal(["2150"], c.Courses.Keys));
        Assert.Equal(3, kajabi.Api.Count("GET /v1/contacts?filter%5Bsite_id%5D=77&filter%5Bhas_offer_id%5D=2150"));
        Assert.Equal(0, kajabi.Api.Count("GET /v1/contacts?filter%5Bsite_id%5D=77&filter%5Bhas_offer_id%5D=3000"));
        Assert.Equal((4, 4), (read.ApiCalls, _gated)); // the token and three pages
    }

    [Fact]
    public async Task RefusedClientSecret_EndsTheRead_NamingTheCredentials()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150");

        var e = await Assert.ThrowsAsync<ReadBackException>(() => ReadBack(kajabi, "wrong").ReadAsync(Gate, CancellationToken.None));

        Assert.Contains("answered 401", e.Message, StringComparison.Ordinal);
        Assert.Contains("destinations.kajabi-main.credentials.client_id and client_secret", e.Message, StringComparison.Ordinal);
    }
}
