using System.Globalization;
using System.Text.Json;
using Junction.Dispatch;
using Junction.Integrations.Webhook;
using Junction.Normalize;
using Junction.Integrations.StandardWebhooks;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Providers;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Dispatch;

public sealed class WebhookConnectorTests
{
    // The Standard Webhooks spec's test secret.
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string OtherSecret = "whsec_d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3";

    private readonly FakeTimeProvider _clock = new(Now);

    private WebhookConnector Connector(Uri url, string secret = Secret, HttpClient? http = null) =>
        new(DestConfig("webhook", url, new() { ["secret"] = secret }), http ?? Http(), _clock);

    private static async Task<FakeWebhookReceiver> Receiver(string secret = Secret)
    {
        var receiver = await FakeWebhookReceiver.StartAsync(secret);
        receiver.Now = Now;
        return receiver;
    }

    [Fact]
    public async Task Deliver_SignsPerStandardWebhooks_AndJunctionsOwnIncomingVerifierAcceptsIt()
    {
        await using var receiver = await Receiver();
        var paid = Paid();

        var result = await Connector(receiver.Url).DeliverAsync(EventWork(paid, key: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(0, receiver.SignatureFailures);
        var (id, body) = Assert.Single(receiver.Processed);
        Assert.Equal("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", id);

        var (_, _, headers, _) = Assert.Single(receiver.Api.Requests);
        var timestamp = Now.ToUnixTimeSeconds();
        Assert.Equal(timestamp.ToString(CultureInfo.InvariantCulture), headers["webhook-timestamp"]);
        Assert.Equal(WebhookConnector.JunctionVersion, headers["Junction-Version"]);
        Assert.StartsWith("application/json", headers["Content-Type"], StringComparison.Ordinal);
        // Computed independently from the spec's description, not with the production helpers.
        Assert.Equal(TestSigning.StandardV1(Secret, id, timestamp, body), headers["webhook-signature"]);

        // And the incoming side, on its own, accepts it.
        var request = TestSigning.Request(body, ("webhook-id", id), ("webhook-timestamp", headers["webhook-timestamp"]),
            ("webhook-signature", headers["webhook-signature"]));
        Assert.True(new StandardWebhooksProvider().Verify(request, [Secret], TimeSpan.FromMinutes(5), Now).IsValid);
    }

    [Fact]
    public async Task Deliver_BodyIsTheSpecEnvelope_AroundTheCanonicalEvent()
    {
        await using var receiver = await Receiver();
        var paid = Paid();

        await Connector(receiver.Url).DeliverAsync(EventWork(paid), CancellationToken.None);

        using var doc = JsonDocument.Parse(Assert.Single(receiver.Processed).Body);
        Assert.Equal("order.paid", doc.RootElement.GetProperty("type").GetString());
        Assert.Equal("2026-11-30T11:55:00Z", doc.RootElement.GetProperty("timestamp").GetString());
        var data = CanonicalJson.Deserialize(doc.RootElement.GetProperty("data").GetRawText());
        Assert.Equal(paid.Id, data.Id);
        Assert.Equal(paid.Order, data.Order! with { Items = paid.Order!.Items, RelatedIds = paid.Order.RelatedIds });
        Assert.Equal(4900, data.Order!.Amount);
        Assert.Equal("course-pro", Assert.Single(data.Order.Items).Sku);
    }

    [Fact]
    public async Task Redelivery_KeepsTheWebhookId_SoTheReceiverProcessesItOnce()
    {
        await using var receiver = await Receiver();
        var connector = Connector(receiver.Url);
        var work = EventWork(Paid());

        var first = await connector.DeliverAsync(work, CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(30));
        receiver.Now = _clock.GetUtcNow();
        var second = await connector.DeliverAsync(work with { Attempt = 2 }, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, first.Outcome);
        Assert.Equal(DeliveryOutcome.Succeeded, second.Outcome);
        Assert.Equal(2, receiver.Api.Requests.Count);
        Assert.Single(receiver.Processed);
        Assert.Single(receiver.Api.Requests.Select(r => r.Headers["webhook-id"]).Distinct());
    }

    [Fact]
    public async Task SignedWithAnotherSecret_TheReceiverRefuses_AndItIsPermanent_NamingCredentials()
    {
        await using var receiver = await Receiver(OtherSecret);

        var result = await Connector(receiver.Url).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(401, result.Status);
        Assert.Contains("check credentials", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, receiver.SignatureFailures);
        Assert.Empty(receiver.Processed);
    }

    [Fact]
    public async Task TooManyRequests_WithRetryAfterSeconds_IsRateLimited_NotAFailure()
    {
        await using var receiver = await Receiver();
        receiver.RespondNext(1, 429, retryAfter: "120");

        var result = await Connector(receiver.Url).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(120), result.RetryAfter);
        Assert.Empty(receiver.Processed);
    }

    [Fact]
    public async Task TooManyRequests_WithRetryAfterHttpDate_WaitsUntilThatDate_OnTheInjectedClock()
    {
        await using var receiver = await Receiver();
        receiver.RespondNext(1, 429, retryAfter: Now.AddMinutes(3).ToString("R", CultureInfo.InvariantCulture));

        var result = await Connector(receiver.Url).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromMinutes(3), result.RetryAfter);
    }

    [Theory]
    [InlineData(500, DeliveryOutcome.Transient)]
    [InlineData(503, DeliveryOutcome.Transient)]
    [InlineData(408, DeliveryOutcome.Transient)]
    [InlineData(400, DeliveryOutcome.Permanent)]
    [InlineData(410, DeliveryOutcome.Permanent)]
    [InlineData(404, DeliveryOutcome.Permanent)]
    [InlineData(302, DeliveryOutcome.Permanent)]
    public async Task ReceiverStatus_IsClassified(int status, DeliveryOutcome expected)
    {
        await using var receiver = await Receiver();
        receiver.RespondNext(1, status, body: "receiver says no");

        var result = await Connector(receiver.Url).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(expected, result.Outcome);
        Assert.Equal(status, result.Status);
        Assert.Contains("receiver says no", result.Error, StringComparison.Ordinal);
        Assert.Equal("receiver says no", result.Response);
    }

    [Fact]
    public async Task ResponseKeptForTheDlq_IsTruncatedTo2KB()
    {
        await using var receiver = await Receiver();
        receiver.RespondNext(1, 400, body: new string('x', 10_000));

        var result = await Connector(receiver.Url).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(2048, result.Response!.Length);
        Assert.True(result.Error!.Length < 400, "the error names the API message, shortened");
    }

    [Fact]
    public async Task HugeErrorBody_IsReadOnlyInPart_AndStillClassified()
    {
        await using var receiver = await Receiver();
        receiver.RespondNext(1, 502, body: new string('y', 5_000_000));

        var result = await Connector(receiver.Url).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
        Assert.Equal(2048, result.Response!.Length);
    }

    [Fact]
    public async Task ConnectionRefused_IsTransient()
    {
        var result = await Connector(ClosedPort()).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
        Assert.Null(result.Status);
        Assert.Single(result.Requests);
    }

    [Fact]
    public async Task ReceiverTooSlow_TimesOut_AsTransient()
    {
        await using var receiver = await Receiver();
        receiver.Stall = TimeSpan.FromSeconds(5);

        var result = await Connector(receiver.Url, http: Http(TimeSpan.FromMilliseconds(300))).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
        Assert.Contains("timed out", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiverStallingMidBody_TimesOut_AsTransient()
    {
        await using var receiver = await Receiver();
        receiver.StallBody = TimeSpan.FromSeconds(5);

        var result = await Connector(receiver.Url, http: Http(TimeSpan.FromMilliseconds(300))).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
        Assert.Contains("timed out", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallerCancellation_IsNotSwallowed()
    {
        await using var receiver = await Receiver();
        receiver.Stall = TimeSpan.FromSeconds(5);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Connector(receiver.Url).DeliverAsync(EventWork(Paid()), cts.Token));
    }

    [Theory]
    [InlineData("")]
    [InlineData("whsec_tooshort")]
    [InlineData("not base64 at all!")]
    public async Task UnusableSecret_IsPermanent_NamingTheConfigKey_AndSendsNothing(string secret)
    {
        await using var receiver = await Receiver();

        var result = await Connector(receiver.Url, secret).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("destinations.webhook-main.credentials.secret", result.Error, StringComparison.Ordinal);
        Assert.Empty(receiver.Api.Requests);
    }

    [Fact]
    public async Task RecordedRequest_HasTheBody_AndNeitherSecretNorSignature()
    {
        await using var receiver = await Receiver();

        var result = await Connector(receiver.Url).DeliverAsync(EventWork(Paid()), CancellationToken.None);

        var recorded = Assert.Single(result.Requests);
        Assert.StartsWith("POST /hooks/junction {\"type\":\"order.paid\"", recorded, StringComparison.Ordinal);
        Assert.DoesNotContain("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", recorded, StringComparison.Ordinal);
        Assert.DoesNotContain("v1,", recorded, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TaskWithoutAnEvent_IsPermanent()
    {
        await using var receiver = await Receiver();

        var result = await Connector(receiver.Url).DeliverAsync(EventWork(Paid()) with { Event = null }, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Empty(receiver.Api.Requests);
    }

    [Fact]
    public void Sign_MatchesTheSpecTestVector()
    {
        var key = Convert.FromBase64String("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            WebhookConnector.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", """{"test": 2432232314}"""));
    }
}
