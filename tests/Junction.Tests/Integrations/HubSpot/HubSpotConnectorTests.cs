using Junction.Dispatch;
using Junction.Integrations.HubSpot;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Integrations.HubSpot;

public sealed class HubSpotConnectorTests : IAsyncLifetime
{
    private const string Email = "ada@example.com";
    private const string Paid = "Paid: Course Pro";

    private readonly HttpClient _http = Http();
    private readonly FakeTimeProvider _time = new(Now);
    private FakeHubSpot _hub = null!;

    public async ValueTask InitializeAsync() => _hub = await FakeHubSpot.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _hub.DisposeAsync();
        _http.Dispose();
    }

    private IDestinationConnector Connector(string token = FakeHubSpot.Token, Dictionary<string, string>? options = null) =>
        HubSpotDestination.CreateConnector(DestConfig(HubSpotDestination.Type, _hub.BaseUrl, new() { [HubSpotDestination.AccessToken] = token }, options), _http, _time);

    private static DesiredContact Contact(bool subscribed = false, bool optedOut = false, string[]? tags = null, params KeyValuePair<string, string>[] fields) => new()
    {
        Email = Email,
        Subscribed = subscribed,
        OptedOut = optedOut,
        Tags = tags ?? [],
        Fields = fields,
    };

    [Fact]
    public async Task NewContact_IsUpsertedByEmail_WithMappedProperties_AndTagsAsOneSemicolonProperty()
    {
        var result = await Connector().DeliverAsync(StateWork(Contact(tags: ["Customer", Paid], fields: [new("buyer_status", "customer"), new("lifetime_value", "49.00")])), default);

        Assert.True(result.Outcome == DeliveryOutcome.Succeeded, result.Error + " | " + result.Response);
        var contact = _hub.ContactOf(Email)!;
        Assert.Equal("customer", contact["buyer_status"]);
        Assert.Equal("49.00", contact["lifetime_value"]);
        Assert.Equal("Customer;" + Paid, contact[FakeHubSpot.TagsProperty]);
        Assert.Equal(1, _hub.Api.Count("POST /crm/v3/objects/contacts/batch/upsert"));
        Assert.Equal("Bearer " + FakeHubSpot.Token, _hub.Api.Requests.Single().Headers["Authorization"]);
        Assert.Equal(0, _hub.Api.Count("POST /communication-preferences")); // consent stays with the email platform
    }

    [Fact]
    public async Task RemovedTag_IsWrittenAway_AndOnlyChangedPropertiesAreSent()
    {
        var before = Contact(tags: ["Customer", Paid], fields: [new("buyer_status", "customer"), new("lifetime_value", "49.00")]);
        await Connector().DeliverAsync(StateWork(before), default);

        var after = Contact(tags: ["Customer"], fields: [new("buyer_status", "refunded"), new("lifetime_value", "49.00")]);
        var result = await Connector().DeliverAsync(StateWork(after, before), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(["Customer"], _hub.TagsOf(Email));
        Assert.Equal("refunded", _hub.ContactOf(Email)!["buyer_status"]);
        var second = _hub.Api.Requests.Last().Body;
        Assert.Contains("buyer_status", second, StringComparison.Ordinal);
        Assert.DoesNotContain("lifetime_value", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LastTagRemoved_ClearsTheProperty()
    {
        var before = Contact(tags: [Paid]);
        await Connector().DeliverAsync(StateWork(before), default);

        await Connector().DeliverAsync(StateWork(Contact(), before), default);

        Assert.Empty(_hub.TagsOf(Email));
        Assert.False(_hub.ContactOf(Email)!.ContainsKey(FakeHubSpot.TagsProperty));
    }

    [Fact]
    public async Task NothingChanged_SendsNothing()
    {
        var same = Contact(tags: [Paid], fields: [new("buyer_status", "customer")]);

        var result = await Connector().DeliverAsync(StateWork(same, same), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(_hub.Api.Requests);
    }

    [Fact]
    public async Task TagsPropertyOption_NamesTheContactProperty()
    {
        _hub.ContactProperties.Add("course_tags");

        await Connector(options: new() { [HubSpotDestination.TagsProperty] = "course_tags" }).DeliverAsync(StateWork(Contact(tags: [Paid])), default);

        Assert.Equal(Paid, _hub.ContactOf(Email)!["course_tags"]);
    }

    [Fact]
    public async Task WithSubscriptionType_OptInSubscribes_OptOutUnsubscribes_EvenWhenHubSpotHadThemOnItsOwn()
    {
        var options = new Dictionary<string, string> { [HubSpotDestination.SubscriptionTypeId] = FakeHubSpot.SubscriptionId };
        var subscribed = Contact(subscribed: true);
        Assert.Equal(DeliveryOutcome.Succeeded, (await Connector(options: options).DeliverAsync(StateWork(subscribed), default)).Outcome);
        Assert.Equal("SUBSCRIBED", _hub.SubscriptionOf(Email));
        Assert.Contains("CONSENT_WITH_NOTICE", _hub.Api.Requests.Last().Body, StringComparison.Ordinal);

        // Bob subscribed through a HubSpot form; Junction never synced his consent, then he opts out.
        _hub.SetSubscription("bob@example.com", "SUBSCRIBED");
        var bob = Contact(optedOut: true) with { Email = "bob@example.com" };
        Assert.Equal(DeliveryOutcome.Succeeded, (await Connector(options: options).DeliverAsync(StateWork(bob, bob with { OptedOut = false }), default)).Outcome);
        Assert.Equal("NOT_SUBSCRIBED", _hub.SubscriptionOf("bob@example.com"));
    }

    [Fact]
    public async Task AlreadySubscribed_CountsAsDone()
    {
        _hub.SetSubscription(Email, "SUBSCRIBED");

        var result = await Connector(options: new() { [HubSpotDestination.SubscriptionTypeId] = FakeHubSpot.SubscriptionId })
            .DeliverAsync(StateWork(Contact(subscribed: true)), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
    }

    [Fact]
    public async Task EmailChange_MovesTheContactHubSpotHas()
    {
        _hub.AddContact("old@example.com", (FakeHubSpot.TagsProperty, Paid));
        var last = Contact(tags: [Paid]) with { Email = "old@example.com" };

        var result = await Connector().DeliverAsync(StateWork(Contact(tags: [Paid]), last), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Null(_hub.ContactOf("old@example.com"));
        Assert.Equal([Paid], _hub.TagsOf(Email));
        Assert.Equal(1, _hub.ContactCount);
    }

    [Fact]
    public async Task RateLimited_WaitsForHubSpotsInterval_FromItsOwnHeader()
    {
        _hub.RateLimitNext(1);

        var result = await Connector().DeliverAsync(StateWork(Contact(tags: [Paid])), default);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(10), result.RetryAfter);
        Assert.Contains("ten_secondly_rolling", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadToken_IsPermanent_NamingTheCredential()
    {
        var result = await Connector(token: "pat-wrong").DeliverAsync(StateWork(Contact()), default);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("check credentials", result.Error, StringComparison.Ordinal);
        Assert.Contains("credentials.access_token", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("pat-wrong", result.Error + string.Join("", result.Requests), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownProperty_IsPermanent_NamingIt_WithoutTheEmail()
    {
        var result = await Connector().DeliverAsync(StateWork(Contact(fields: [new("ltv_typo", "1")])), default);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("ltv_typo", result.Error, StringComparison.Ordinal);
        Assert.Contains("VALIDATION_ERROR", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TagNotAnOptionOfTheCheckboxProperty_IsPermanent_NamingTheTag()
    {
        _hub.TagOptions = ["Customer"];

        var result = await Connector().DeliverAsync(StateWork(Contact(tags: [Paid])), default);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains(Paid, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerError_IsTransient()
    {
        _hub.FailNext(1, 502);

        var result = await Connector().DeliverAsync(StateWork(Contact()), default);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
        Assert.Equal(502, result.Status);
    }

    private static Dictionary<string, string> DealOptions(string? refundStage = null)
    {
        var options = new Dictionary<string, string> { [HubSpotDestination.Deals] = "true" };
        if (refundStage is not null) options[HubSpotDestination.RefundStage] = refundStage;
        return options;
    }

    [Fact]
    public async Task PaidOrder_BecomesADeal_WithAmountCurrencyAndCloseDate_AssociatedWithTheContact()
    {
        var result = await Connector(options: DealOptions()).DeliverAsync(EventWork(Paid("ord_1", 4900, "USD")), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        var deal = _hub.Deal("ord_1")!;
        Assert.Equal("49.00", deal["amount"]);
        Assert.Equal("USD", deal["deal_currency_code"]);
        Assert.Equal("closedwon", deal["dealstage"]);
        Assert.Equal("2026-11-30T11:55:00.000Z", deal["closedate"]);
        Assert.True(_hub.DealAssociated("ord_1", Email));
    }

    [Fact]
    public async Task PaidOrder_DeliveredTwice_IsOneDeal()
    {
        var work = EventWork(Paid("ord_1", 4900, "USD"));

        await Connector(options: DealOptions()).DeliverAsync(work, default);
        var again = await Connector(options: DealOptions()).DeliverAsync(work, default);

        Assert.Equal(DeliveryOutcome.Succeeded, again.Outcome);
        Assert.Equal(1, _hub.DealCount);
        Assert.Equal(1, _hub.ContactCount);
    }

    [Fact]
    public async Task Refund_MovesTheDealToTheRefundStage_WhenOneIsConfigured()
    {
        await Connector(options: DealOptions("refunded")).DeliverAsync(EventWork(Paid("ord_1", 4900, "USD")), default);

        var result = await Connector(options: DealOptions("refunded")).DeliverAsync(EventWork(Refunded("ord_1", 4900, 4900, full: true)), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal("refunded", _hub.Deal("ord_1")!["dealstage"]);
        Assert.Equal("49.00", _hub.Deal("ord_1")!["amount"]);
        Assert.Equal(1, _hub.DealCount);
    }

    [Fact]
    public async Task PartialRefund_WithoutARefundStage_SetsTheAmountToWhatWasKept()
    {
        await Connector(options: DealOptions()).DeliverAsync(EventWork(Paid("ord_1", 4900, "USD")), default);

        var result = await Connector(options: DealOptions()).DeliverAsync(EventWork(Refunded("ord_1", 4900, 900, full: false)), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal("40.00", _hub.Deal("ord_1")!["amount"]);
        Assert.Equal("closedwon", _hub.Deal("ord_1")!["dealstage"]);
    }

    [Fact]
    public async Task Events_WithoutDealsOption_ArePermanent()
    {
        var result = await Connector().DeliverAsync(EventWork(Paid("ord_1", 4900, "USD")), default);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("deals: true", result.Error, StringComparison.Ordinal);
        Assert.Empty(_hub.Api.Requests);
    }
}
