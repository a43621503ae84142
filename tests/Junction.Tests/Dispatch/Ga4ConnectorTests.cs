using Junction.Canonical;
using Junction.Dispatch;
using Junction.Integrations.Ga4;
using Junction.Tests.Dispatch.Fakes;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Dispatch;

public sealed class Ga4ConnectorTests
{
    private readonly FakeTimeProvider _clock = new(Now);

    private Ga4Connector Connector(Uri baseUrl, bool validate = false, string apiSecret = FakeGa4.ApiSecret,
        string measurementId = FakeGa4.MeasurementId)
    {
        var options = new Dictionary<string, string> { ["measurement_id"] = measurementId };
        if (validate) options["validate"] = "true";
        return new(DestConfig("ga4", baseUrl, new() { ["api_secret"] = apiSecret }, options), Http(), _clock);
    }

    private static decimal Number(System.Text.Json.Nodes.JsonNode? node) => node!.GetValue<decimal>();

    [Fact]
    public async Task OrderPaid_IsAPurchase_WithTheOrderIdAsTransactionId_AndValueInMajorUnits()
    {
        await using var ga4 = await FakeGa4.StartAsync();

        var result = await Connector(ga4.BaseUrl).DeliverAsync(EventWork(Paid("ord_42", 4900, "USD"), personId: "p_9"), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        var e = Assert.Single(ga4.Events);
        Assert.Equal("purchase", e.Name);
        Assert.Equal("ord_42", e.Params["transaction_id"]!.GetValue<string>());
        Assert.Equal("USD", e.Params["currency"]!.GetValue<string>());
        Assert.Equal(49m, Number(e.Params["value"]));
        var item = Assert.Single(e.Params["items"]!.AsArray())!;
        Assert.Equal("course-pro", item["item_id"]!.GetValue<string>());
        Assert.Equal("Pro course", item["item_name"]!.GetValue<string>());
        Assert.Equal(49m, Number(item["price"]));
        Assert.Equal(1, item["quantity"]!.GetValue<int>());
        Assert.Equal("p_9", e.UserId);
        Assert.Equal(Ga4Connector.ClientId(null, "p_9"), e.ClientId);
        Assert.Equal(Now.AddMinutes(-5).ToUnixTimeMilliseconds() * 1000, e.TimestampMicros);
    }

    [Theory]
    [InlineData("JPY", 5000, 5000)]
    [InlineData("KWD", 12345, 12.345)]
    [InlineData("EUR", 1999, 19.99)]
    public async Task Value_UsesTheCurrencysExponent(string currency, long minor, double major)
    {
        await using var ga4 = await FakeGa4.StartAsync();

        await Connector(ga4.BaseUrl).DeliverAsync(EventWork(Paid("ord_1", minor, currency)), CancellationToken.None);

        Assert.Equal((decimal)major, Number(Assert.Single(ga4.Events).Params["value"]));
    }

    [Fact]
    public async Task ItemPrice_IsTheUnitPrice()
    {
        await using var ga4 = await FakeGa4.StartAsync();
        var paid = Paid("ord_1", 3000, "USD", items: new OrderItem { ProductId = "prod_1", Quantity = 3, Amount = 3000 });

        await Connector(ga4.BaseUrl).DeliverAsync(EventWork(paid), CancellationToken.None);

        var item = Assert.Single(Assert.Single(ga4.Events).Params["items"]!.AsArray())!;
        Assert.Equal("prod_1", item["item_id"]!.GetValue<string>());
        Assert.Equal(10m, Number(item["price"]));
        Assert.Equal(3, item["quantity"]!.GetValue<int>());
    }

    [Fact]
    public async Task GaCookie_OnTheEvent_GivesTheClientId()
    {
        await using var ga4 = await FakeGa4.StartAsync();

        await Connector(ga4.BaseUrl).DeliverAsync(EventWork(Paid(anonymousId: "GA1.1.1234567890.1700000000")), CancellationToken.None);

        Assert.Equal("1234567890.1700000000", Assert.Single(ga4.Events).ClientId);
    }

    [Fact]
    public void ClientId_WithoutAnAnonymousId_IsStablePerPerson_AndShapedLikeGas()
    {
        var a = Ga4Connector.ClientId(null, "p_1");

        Assert.Equal(a, Ga4Connector.ClientId(null, "p_1"));
        Assert.NotEqual(a, Ga4Connector.ClientId(null, "p_2"));
        Assert.Matches(@"^\d+\.\d+$", a);
        Assert.Equal("anon-123", Ga4Connector.ClientId(" anon-123 ", "p_1"));
    }

    [Fact]
    public async Task PartialRefund_IsARefundOfItsAmount_WithoutItems()
    {
        await using var ga4 = await FakeGa4.StartAsync();

        var result = await Connector(ga4.BaseUrl).DeliverAsync(EventWork(Refunded("ord_7", 4900, 1000, full: false)), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        var e = Assert.Single(ga4.Events);
        Assert.Equal("refund", e.Name);
        Assert.Equal("ord_7", e.Params["transaction_id"]!.GetValue<string>());
        Assert.Equal(10m, Number(e.Params["value"]));
        Assert.False(e.Params.ContainsKey("items"));
    }

    [Fact]
    public async Task FullRefund_NamesTheItems()
    {
        await using var ga4 = await FakeGa4.StartAsync();

        await Connector(ga4.BaseUrl).DeliverAsync(EventWork(Refunded("ord_7", 4900, 4900, full: true)), CancellationToken.None);

        var e = Assert.Single(ga4.Events);
        Assert.Equal(49m, Number(e.Params["value"]));
        Assert.Single(e.Params["items"]!.AsArray());
    }

    [Fact]
    public async Task PurchaseAndItsRefund_ShareTheTransactionId_AndAResendIsTheSameTransaction()
    {
        await using var ga4 = await FakeGa4.StartAsync();
        var connector = Connector(ga4.BaseUrl);

        await connector.DeliverAsync(EventWork(Paid("ord_5")), CancellationToken.None);
        await connector.DeliverAsync(EventWork(Paid("ord_5")) with { Attempt = 2 }, CancellationToken.None);
        await connector.DeliverAsync(EventWork(Refunded("ord_5", 4900, 4900, full: true)), CancellationToken.None);

        Assert.Equal(["ord_5"], ga4.Events.Select(e => e.Params["transaction_id"]!.GetValue<string>()).Distinct());
    }

    [Theory]
    [InlineData(EventTypes.Optin)]
    [InlineData(EventTypes.OrderPending)]
    [InlineData(EventTypes.ChargebackOpened)]
    [InlineData(EventTypes.SubscriptionRenewed)]
    public async Task OtherEventTypes_SucceedWithoutSending(string type)
    {
        await using var ga4 = await FakeGa4.StartAsync();

        var result = await Connector(ga4.BaseUrl).DeliverAsync(EventWork(Paid() with { Type = type }), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(result.Requests);
        Assert.Empty(ga4.Api.Requests);
    }

    [Fact]
    public async Task WithoutValidation_AMalformedPayloadIsSilentlyDropped_ByGa4()
    {
        // Why `validate` exists: the collect endpoint answers 2xx to what it then throws away.
        await using var ga4 = await FakeGa4.StartAsync();
        var paid = Paid(items: new OrderItem { Sku = "x", Name = new string('n', 150), Amount = 4900 });

        var result = await Connector(ga4.BaseUrl).DeliverAsync(EventWork(paid), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(ga4.Events);
        Assert.Equal(1, ga4.DroppedPayloads);
    }

    [Fact]
    public async Task WithValidation_ValidationMessages_ArePermanent_AndNothingIsCollected()
    {
        await using var ga4 = await FakeGa4.StartAsync();
        var paid = Paid(items: new OrderItem { Sku = "x", Name = new string('n', 150), Amount = 4900 });

        var result = await Connector(ga4.BaseUrl, validate: true).DeliverAsync(EventWork(paid), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("events[0].params.items[0].item_name", result.Error, StringComparison.Ordinal);
        Assert.Contains("VALUE_OUT_OF_BOUNDS", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, ga4.Api.Count("POST /mp/collect"));
        Assert.Single(result.Requests);
    }

    [Fact]
    public async Task WithValidation_AValidPayload_IsCheckedThenCollected()
    {
        await using var ga4 = await FakeGa4.StartAsync();

        var result = await Connector(ga4.BaseUrl, validate: true).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Single(ga4.Events);
        Assert.Equal(1, ga4.Api.Count("POST /debug/mp/collect"));
        Assert.Equal(1, ga4.Api.Count("POST /mp/collect"));
        Assert.Equal(2, result.Requests.Count);
    }

    [Fact]
    public async Task ApiSecret_IsSentInTheQuery_ButNeverRecorded()
    {
        await using var ga4 = await FakeGa4.StartAsync();

        var result = await Connector(ga4.BaseUrl, validate: true).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.All(ga4.Api.Requests, r => Assert.Contains("api_secret=" + FakeGa4.ApiSecret, r.Request, StringComparison.Ordinal));
        Assert.All(result.Requests, r => Assert.DoesNotContain(FakeGa4.ApiSecret, r, StringComparison.Ordinal));
        Assert.StartsWith("POST /mp/collect?measurement_id=G-TEST12345 {", result.Requests[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongApiSecret_IsAcceptedButDropped_AsGa4Does()
    {
        await using var ga4 = await FakeGa4.StartAsync();

        var result = await Connector(ga4.BaseUrl, apiSecret: "wrong").DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(ga4.Events);
    }

    [Fact]
    public async Task TooManyRequests_IsRateLimited_WithRetryAfter()
    {
        await using var ga4 = await FakeGa4.StartAsync();
        ga4.RateLimitNext(1, "30");

        var result = await Connector(ga4.BaseUrl).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(30), result.RetryAfter);
        Assert.Empty(ga4.Events);
    }

    [Fact]
    public async Task ServerError_IsTransient_AndTheNextAttemptLands()
    {
        await using var ga4 = await FakeGa4.StartAsync();
        ga4.FailNext(1, 503);
        var connector = Connector(ga4.BaseUrl);

        var first = await connector.DeliverAsync(EventWork(Paid()), CancellationToken.None);
        var second = await connector.DeliverAsync(EventWork(Paid()) with { Attempt = 2 }, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Transient, first.Outcome);
        Assert.Equal(503, first.Status);
        Assert.Equal(DeliveryOutcome.Succeeded, second.Outcome);
        Assert.Single(ga4.Events);
    }

    [Fact]
    public async Task Unreachable_IsTransient()
    {
        var result = await Connector(ClosedPort()).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
    }

    [Fact]
    public async Task EventOlderThan72Hours_IsSentWithoutABackdatedTimestamp()
    {
        await using var ga4 = await FakeGa4.StartAsync();

        await Connector(ga4.BaseUrl).DeliverAsync(EventWork(Paid(at: Now.AddDays(-4))), CancellationToken.None);

        Assert.Null(Assert.Single(ga4.Events).TimestampMicros);
    }

    [Fact]
    public async Task OrderWithoutCurrency_SendsNoValue()
    {
        await using var ga4 = await FakeGa4.StartAsync();
        var paid = Paid();
        paid = paid with { Order = paid.Order! with { Currency = null } };

        var result = await Connector(ga4.BaseUrl, validate: true).DeliverAsync(EventWork(paid), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        var e = Assert.Single(ga4.Events);
        Assert.False(e.Params.ContainsKey("value"));
        Assert.False(e.Params.ContainsKey("currency"));
    }

    [Theory]
    [InlineData(true, false, "measurement_id")]
    [InlineData(false, true, "credentials.api_secret")]
    public async Task MissingKeys_ArePermanent_NamingTheConfigKey(bool withSecret, bool withMeasurementId, string named)
    {
        await using var ga4 = await FakeGa4.StartAsync();
        var config = DestConfig("ga4", ga4.BaseUrl,
            withSecret ? new() { ["api_secret"] = FakeGa4.ApiSecret } : [],
            withMeasurementId ? new() { ["measurement_id"] = FakeGa4.MeasurementId } : []);

        var result = await new Ga4Connector(config, Http(), _clock).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("destinations.ga4-main." + named, result.Error, StringComparison.Ordinal);
        Assert.Empty(ga4.Api.Requests);
    }

    [Fact]
    public async Task OrderEventWithoutAnOrder_IsPermanent()
    {
        await using var ga4 = await FakeGa4.StartAsync();

        var result = await Connector(ga4.BaseUrl).DeliverAsync(EventWork(Paid() with { Order = null }), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Empty(ga4.Api.Requests);
    }

    [Fact]
    public void ValidationMessages_ReadsTheDocumentedShape_AndSurvivesGarbage()
    {
        Assert.Null(Ga4Connector.ValidationMessages("""{"validationMessages":[]}"""));
        Assert.Equal("events: Event at index: [0] has invalid name [_bad]. (NAME_INVALID)", Ga4Connector.ValidationMessages(
            """{"validationMessages":[{"fieldPath":"events","description":"Event at index: [0] has invalid name [_bad].","validationCode":"NAME_INVALID"}]}"""));
        Assert.Equal("unreadable validation response", Ga4Connector.ValidationMessages("<html>"));
        Assert.NotNull(Ga4Connector.ValidationMessages("""{"validationMessages":[1,2]}"""));
    }
}
