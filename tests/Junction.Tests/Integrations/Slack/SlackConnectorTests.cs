using Junction.Canonical;
using Junction.Dispatch;
using Junction.Integrations.Slack;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Integrations.Slack;

public sealed class SlackConnectorTests : IAsyncLifetime
{
    private FakeSlack _slack = null!;
    private readonly FakeTimeProvider _time = new(Now);

    public async ValueTask InitializeAsync() => _slack = await FakeSlack.StartAsync();

    public async ValueTask DisposeAsync() => await _slack.DisposeAsync();

    private SlackConnector Connector(Dictionary<string, string>? options = null, string[]? events = null, string? url = null) =>
        new(DestConfig(SlackDestination.Type, new Uri(SlackDestination.DefaultBaseUrl),
            new Dictionary<string, string> { ["webhook_url"] = url ?? _slack.WebhookUrl }, options) with { Events = events ?? [] }, Http(), _time);

    [Fact]
    public async Task NewSale_PostsAmountCurrencyAndProduct_WithTheEmailMasked()
    {
        var result = await Connector().DeliverAsync(EventWork(Paid("ord_1", 4900)), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        var text = Assert.Single(_slack.Messages);
        Assert.Contains("49.00 USD", text, StringComparison.Ordinal);
        Assert.Contains("Pro course", text, StringComparison.Ordinal);
        Assert.Contains("a***@e***.com", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ada@example.com", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refund_PostsTheRefundedAmount()
    {
        await Connector().DeliverAsync(EventWork(Refunded("ord_1", 4900, 1500, full: false)), CancellationToken.None);

        var text = Assert.Single(_slack.Messages);
        Assert.Contains("Refund", text, StringComparison.Ordinal);
        Assert.Contains("15.00 USD", text, StringComparison.Ordinal);
        Assert.Contains("ord_1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfiguredTemplate_IsUsed_AndValuesAreEscapedForSlack()
    {
        var options = new Dictionary<string, string> { ["template_order_paid"] = "*Sale* {amount} {currency} — {product} from {source}" };
        var paid = Paid("ord_1", 4900, items: new OrderItem { Name = "<!channel> & friends", Quantity = 1, Amount = 4900 });

        await Connector(options).DeliverAsync(EventWork(paid), CancellationToken.None);

        Assert.Equal("*Sale* 49.00 USD — &lt;!channel&gt; &amp; friends from stripe-main", Assert.Single(_slack.Messages));
    }

    [Fact]
    public async Task UnknownPlaceholder_IsReportedWithItsKeyPath_AndNothingIsPosted()
    {
        var options = new Dictionary<string, string> { ["template_order_paid"] = "Sale {amount} by {email}" };

        var result = await Connector(options).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.StartsWith("destinations.slack-main.template_order_paid: unknown placeholder {email}", result.Error, StringComparison.Ordinal);
        var (path, _) = Assert.Single(SlackDestination.Validate(Connector(options).Config));
        Assert.Equal("destinations.slack-main.template_order_paid", path);
        Assert.Empty(_slack.Api.Requests);
    }

    [Fact]
    public async Task EventTypeNotNotified_SendsNothing_UnlessListedInEvents()
    {
        var failed = Paid("ord_9") with { Type = EventTypes.PaymentFailed };

        var byDefault = await Connector().DeliverAsync(EventWork(failed), CancellationToken.None);
        Assert.Equal(DeliveryOutcome.Succeeded, byDefault.Outcome);
        Assert.Empty(_slack.Api.Requests);

        await Connector(events: [EventTypes.PaymentFailed]).DeliverAsync(EventWork(failed), CancellationToken.None);
        Assert.Contains("Payment failed", Assert.Single(_slack.Messages), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestModeSale_IsMarkedAsTest()
    {
        await Connector().DeliverAsync(EventWork(Paid() with { TestMode = true }), CancellationToken.None);

        Assert.StartsWith("[test mode] ", Assert.Single(_slack.Messages), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ArchivedChannel_IsPermanent_NamesTheCredential_WithoutShowingTheUrl()
    {
        _slack.Archived = true;

        var result = await Connector().DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(410, result.Status);
        Assert.Contains("channel_is_archived", result.Error, StringComparison.Ordinal);
        Assert.Contains("credentials.webhook_url", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("XXXXsecretXXXX", result.Error + string.Join("\n", result.Requests), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokedWebhook_404NoService_IsPermanent()
    {
        var url = new Uri(new Uri(_slack.WebhookUrl), "/services/T0001/B0001/revoked").ToString();

        var result = await Connector(url: url).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("no_service", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimited_HonoursRetryAfter()
    {
        _slack.RateLimitNext(1, retryAfter: "3");

        var result = await Connector().DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(3), result.RetryAfter);
        Assert.Empty(_slack.Messages);
    }

    [Fact]
    public async Task ServerError_IsTransient()
    {
        _slack.FailNext(1, 500);

        var result = await Connector().DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
    }

    [Fact]
    public async Task PlainHttpWebhookUrl_ToAPublicHost_IsRefused()
    {
        var result = await Connector(url: "http://hooks.slack.com/services/T/B/x").DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("credentials.webhook_url", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("/services/T/B/x", result.Error, StringComparison.Ordinal);
    }
}
