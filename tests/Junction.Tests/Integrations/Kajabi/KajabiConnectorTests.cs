using Junction.Dispatch;
using Junction.Integrations.Kajabi;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Integrations.Kajabi;

public sealed class KajabiConnectorTests
{
    private readonly FakeTimeProvider _clock = new(Now);

    private IDestinationConnector Connector(Uri baseUrl, string secret = FakeKajabi.ClientSecret) =>
        KajabiDestination.CreateConnector(DestConfig(KajabiDestination.Type, baseUrl,
            new() { ["client_id"] = FakeKajabi.ClientId, ["client_secret"] = secret }, new() { ["site_id"] = FakeKajabi.SiteId }), Http(), _clock);

    [Fact]
    public async Task Purchase_CreatesTheContactInTheSite_AndGrantsTheOffer()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150");

        var result = await Connector(kajabi.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "2150")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        var contact = kajabi.ContactOf("ada@example.com");
        Assert.NotNull(contact);
        Assert.Equal("Ada Lovelace", contact.Name);
        Assert.Equal(["2150"], kajabi.OffersOf("ada@example.com"));
        Assert.Equal(
            [
                "POST /v1/oauth/token",
                "GET /v1/contacts?filter%5Bsite_id%5D=77&filter%5Bemail_contains%5D=ada%40example.com&page%5Bnumber%5D=1&page%5Bsize%5D=100",
                "POST /v1/contacts",
                $"POST /v1/contacts/{contact.Id}/relationships/offers {{\"data\":[{{\"type\":\"offers\",\"id\":\"2150\"}}]}}",
            ],
            result.Requests.Select(r => r.StartsWith("POST /v1/contacts ", StringComparison.Ordinal) ? "POST /v1/contacts" : r));
        // The client secret travels in the form only, which is never recorded.
        Assert.DoesNotContain(result.Requests, r => r.Contains(FakeKajabi.ClientSecret, StringComparison.Ordinal));
        Assert.DoesNotContain(FakeKajabi.ClientSecret, result.Response ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExistingContact_IsPickedByExactEmail_AmongTheContainsMatches()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150");
        kajabi.AddContact("ada@example.com.au");
        var id = kajabi.AddContact("Ada@Example.com");

        var result = await Connector(kajabi.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "2150")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(2, kajabi.ContactCount);
        Assert.Equal(["2150"], kajabi.OffersOf("ada@example.com"));
        Assert.Empty(kajabi.OffersOf("ada@example.com.au"));
        Assert.Contains(result.Requests, r => r.StartsWith($"POST /v1/contacts/{id}/relationships/offers", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refund_RevokesTheOfferJunctionGranted_AndLeavesTheOthers()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150", "3000", "555");
        var id = kajabi.AddContact("ada@example.com", "2150", "3000", "555"); // 555 was granted by hand in Kajabi

        var result = await Connector(kajabi.BaseUrl).DeliverAsync(
            StateWork(Contact("ada@example.com", "3000"), lastSynced: Contact("ada@example.com", "2150", "3000")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(["3000", "555"], kajabi.OffersOf("ada@example.com"));
        Assert.Contains($"DELETE /v1/contacts/{id}/relationships/offers {{\"data\":[{{\"type\":\"offers\",\"id\":\"2150\"}}]}}", result.Requests);
        Assert.Equal(0, kajabi.Api.Count("POST /v1/contacts"));
    }

    [Fact]
    public async Task RetryOfADeliveredTask_DoesNotGrantTwice_AndTheTokenIsKept()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150");
        var connector = Connector(kajabi.BaseUrl);
        var purchase = StateWork(Contact("ada@example.com", "2150"));

        Assert.Equal(DeliveryOutcome.Succeeded, (await connector.DeliverAsync(purchase, CancellationToken.None)).Outcome);
        Assert.Equal(DeliveryOutcome.Succeeded, (await connector.DeliverAsync(purchase, CancellationToken.None)).Outcome);
        var refund = StateWork(Contact("ada@example.com"), lastSynced: Contact("ada@example.com", "2150"));
        Assert.Equal(DeliveryOutcome.Succeeded, (await connector.DeliverAsync(refund, CancellationToken.None)).Outcome);
        Assert.Equal(DeliveryOutcome.Succeeded, (await connector.DeliverAsync(refund, CancellationToken.None)).Outcome);

        Assert.Equal(1, kajabi.Grants); // one welcome email, not two
        Assert.Equal(1, kajabi.Api.Count("DELETE /v1/contacts/"));
        Assert.Equal(1, kajabi.ContactCount);
        Assert.Equal(1, kajabi.TokensIssued);
        Assert.Empty(kajabi.OffersOf("ada@example.com"));
    }

    [Fact]
    public async Task ExpiredToken_IsRenewedFromItsExpiresIn()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150", "3000");
        var connector = Connector(kajabi.BaseUrl);
        await connector.DeliverAsync(StateWork(Contact("ada@example.com", "2150")), CancellationToken.None);

        _clock.Advance(TimeSpan.FromSeconds(7200 - 30)); // within a minute of expires_in: 7200
        var result = await connector.DeliverAsync(StateWork(Contact("ada@example.com", "2150", "3000"), lastSynced: Contact("ada@example.com", "2150")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(2, kajabi.TokensIssued);
        Assert.Equal(["2150", "3000"], kajabi.OffersOf("ada@example.com"));
    }

    [Fact]
    public async Task RotatedKey_Answers401_TheTokenIsRenewedOnce_AndTheCallSucceeds()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150", "3000");
        var connector = Connector(kajabi.BaseUrl);
        await connector.DeliverAsync(StateWork(Contact("ada@example.com", "2150")), CancellationToken.None);
        kajabi.InvalidateTokens();

        var result = await connector.DeliverAsync(StateWork(Contact("ada@example.com", "2150", "3000"), lastSynced: Contact("ada@example.com", "2150")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(2, kajabi.TokensIssued);
        Assert.Equal(["2150", "3000"], kajabi.OffersOf("ada@example.com"));
    }

    [Fact]
    public async Task RefusedClientSecret_IsPermanent_AndNamesTheCredentials()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150");

        var result = await Connector(kajabi.BaseUrl, secret: "wrong").DeliverAsync(StateWork(Contact("ada@example.com", "2150")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(401, result.Status);
        Assert.Contains("invalid_client", result.Error, StringComparison.Ordinal);
        Assert.Contains("destinations.kajabi-main.credentials.client_id and client_secret", result.Error, StringComparison.Ordinal);
        Assert.Equal(["POST /v1/oauth/token"], result.Requests);
    }

    [Fact]
    public async Task RateLimited_CarriesKajabisRetryAfter()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150");
        kajabi.RetryAfterSeconds = 17;
        kajabi.RateLimitNext(1);

        var result = await Connector(kajabi.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "2150")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(17), result.RetryAfter);
    }

    [Fact]
    public async Task UnknownOffer_IsPermanent_WithKajabisMessage()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150");

        var result = await Connector(kajabi.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "999")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(404, result.Status);
        Assert.Contains("grant offer 999", result.Error, StringComparison.Ordinal);
        Assert.Contains("Offer 999 not found", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerError_IsTransient()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150");
        kajabi.FailNext(1, 502);

        var result = await Connector(kajabi.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "2150")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
        Assert.Empty(kajabi.OffersOf("ada@example.com"));
    }

    [Fact]
    public async Task OfferNameInsteadOfAnId_IsPermanent_NamingTheKey_BeforeAnyCall()
    {
        await using var kajabi = await FakeKajabi.StartAsync("2150");

        var result = await Connector(kajabi.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "Pro Course")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.StartsWith("destinations.kajabi-main.courses: 'Pro Course' is not a Kajabi offer id", result.Error, StringComparison.Ordinal);
        Assert.Empty(kajabi.Api.Requests);
    }
}
