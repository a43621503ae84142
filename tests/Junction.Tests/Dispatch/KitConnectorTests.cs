using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;
using Junction.Integrations.Kit;
using Junction.Tests.Dispatch.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Dispatch;

public sealed class KitConnectorTests : IAsyncLifetime
{
    private const string Paid = "Customer - Course Pro";
    private const string Email = "ada@example.com";

    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly FakeTimeProvider _time = new(Now);
    private FakeKit _kit = null!;
    private IDestinationConnector _connector = null!;

    public async ValueTask InitializeAsync()
    {
        _kit = await FakeKit.StartAsync();
        _connector = DestinationConnectors.Create(Config(_kit.BaseUrl), _http, _time);
    }

    public async ValueTask DisposeAsync()
    {
        await _kit.DisposeAsync();
        _http.Dispose();
    }

    private static DestinationConfig Config(Uri baseUrl, string apiKey = FakeKit.ApiKey) => new()
    {
        Id = "kit-main",
        Type = DestinationTypes.Kit, Traits = DestinationTypes.TraitsOf(DestinationTypes.Kit),
        BaseUrl = baseUrl,
        RateLimit = 2,
        Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["api_key"] = apiKey },
    };

    private static DesiredContact Contact(bool subscribed, string[]? tags = null, params KeyValuePair<string, string>[] fields) => new()
    {
        Email = Email,
        Subscribed = subscribed,
        Tags = tags ?? [],
        Fields = fields,
    };

    private static DeliveryWork Work(DesiredContact desired, DesiredContact? last = null) => new()
    {
        TaskId = 1,
        PersonId = "p_ada",
        Kind = DeliveryKinds.State,
        Desired = desired,
        LastSynced = last,
        IdempotencyKey = "kit-main:p_ada:1",
    };

    private int Calls(string prefix) => _kit.Api.Count(prefix);

    private int Exactly(string request) => _kit.Api.Requests.Count(r => r.Request == request);

    [Fact]
    public async Task PendingDoubleOptIn_WithADoubleOptInForm_IsAddedToIt_SoKitMailsItsConfirmationOnce()
    {
        var config = Config(_kit.BaseUrl) with
        {
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { [Junction.Integrations.Kit.KitConnector.DoubleOptInFormOption] = "4242" },
        };
        var connector = DestinationConnectors.Create(config, _http, _time);
        var pending = Contact(false) with { Pending = true };

        Assert.Equal(DeliveryOutcome.Succeeded, (await connector.DeliverAsync(Work(pending), default)).Outcome);
        Assert.Equal(DeliveryOutcome.Succeeded, (await connector.DeliverAsync(Work(pending with { Fields = [new("first_name", "Ada")] }, last: pending), default)).Outcome);

        Assert.Equal("inactive", _kit.StateOf(Email));
        Assert.Equal([Email], _kit.IncentiveEmailsSent);
        Assert.Equal(1, _kit.Api.Count("POST /v4/forms/4242/subscribers"));
    }

    [Fact]
    public async Task ABuyerKitHoldsInactive_WhoOptsInLater_IsActivatedThroughTheSubscribeForm_AndStaysInactiveWithoutOne()
    {
        _kit.SingleOptInForms.Add(5151);
        var withForm = DestinationConnectors.Create(Config(_kit.BaseUrl) with
        {
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { [Junction.Integrations.Kit.KitConnector.SubscribeFormOption] = "5151" },
        }, _http, _time);
        var buyer = Contact(false);

        // The purchase reached Kit before the opt-in: Kit holds the buyer inactive (not mailed).
        Assert.Equal(DeliveryOutcome.Succeeded, (await withForm.DeliverAsync(Work(buyer), default)).Outcome);
        Assert.Equal("inactive", _kit.StateOf(Email));
        // Kit's upsert cannot change the state; without the form the opt-in leaves them inactive …
        Assert.Equal(DeliveryOutcome.Succeeded, (await _connector.DeliverAsync(Work(Contact(true), last: buyer), default)).Outcome);
        Assert.Equal("inactive", _kit.StateOf(Email));
        // … with it, they are added to the single opt-in form, which activates them.
        Assert.Equal(DeliveryOutcome.Succeeded, (await withForm.DeliverAsync(Work(Contact(true), last: buyer), default)).Outcome);
        Assert.Equal("active", _kit.StateOf(Email));
        Assert.Equal(1, _kit.Api.Count("POST /v4/forms/5151/subscribers"));
    }

    [Fact]
    public async Task PendingDoubleOptIn_IsCreatedInactive_NotActive_AndNotUnsubscribed()
    {
        var result = await _connector.DeliverAsync(Work(Contact(false) with { Pending = true }), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal("inactive", _kit.StateOf(Email));

        // Kit confirms; Junction then holds the contact as subscribed and leaves Kit's state alone.
        Assert.True(_kit.Confirm(Email));
        var confirmed = await _connector.DeliverAsync(Work(Contact(true), last: Contact(false) with { Pending = true }), default);
        Assert.Equal(DeliveryOutcome.Succeeded, confirmed.Outcome);
        Assert.Equal("active", _kit.StateOf(Email));
        Assert.DoesNotContain(_kit.Api.Requests, r => r.Request.EndsWith("/unsubscribe", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NewBuyer_IsCreatedInactive_WithItsFields_AndTagged_CreatingTheTag()
    {
        var result = await _connector.DeliverAsync(Work(Contact(false, [Paid], new("first_name", "Ada"), new("lifetime_value", "49.00"))), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal("inactive", _kit.StateOf(Email)); // no marketing consent: not mailed
        Assert.Equal("Ada", _kit.FirstNameOf(Email));
        Assert.Equal("49.00", _kit.FieldsOf(Email)["lifetime_value"]);
        Assert.Equal([Paid], _kit.TagsOf(Email));
        Assert.Equal(["POST /v4/subscribers", "GET /v4/tags", "POST /v4/tags", "POST /v4/tags/"], result.Requests.Select(r => string.Join(' ', r.Split(' ')[..2])).Select(Shorten));
        Assert.All(_kit.Api.Requests, r => Assert.Equal(FakeKit.ApiKey, r.Headers["X-Kit-Api-Key"]));
        Assert.DoesNotContain(result.Requests, r => r.Contains(FakeKit.ApiKey, StringComparison.Ordinal));
        Assert.Contains("\"email_address\":\"ada@example.com\"", result.Requests[0], StringComparison.Ordinal);
    }

    private static string Shorten(string request) => request.StartsWith("POST /v4/tags/", StringComparison.Ordinal) ? "POST /v4/tags/" : request.Split('?')[0];

    [Fact]
    public async Task NewSubscriber_IsCreatedActive()
    {
        await _connector.DeliverAsync(Work(Contact(true)), default);

        Assert.Equal("active", _kit.StateOf(Email));
    }

    [Fact]
    public async Task Refund_RemovesOnlyThePaidTag_WithoutRewritingTheSubscriber()
    {
        _kit.AddSubscriber(Email, "active", Paid, "Webinar 2025");

        var result = await _connector.DeliverAsync(Work(Contact(true), last: Contact(true, [Paid])), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(["Webinar 2025"], _kit.TagsOf(Email));
        Assert.Equal(0, Calls("POST /v4/subscribers"));
        Assert.Equal(1, Calls("DELETE /v4/tags/"));
        Assert.Equal("active", _kit.StateOf(Email));
    }

    [Fact]
    public async Task NothingChanged_MakesNoCall()
    {
        var same = Contact(true, [Paid], new KeyValuePair<string, string>("lifetime_value", "49.00"));

        var result = await _connector.DeliverAsync(Work(same, last: same), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(result.Requests);
        Assert.Empty(_kit.Api.Requests);
    }

    [Fact]
    public async Task OptOut_CancelsASubscriberKitHadOnItsOwn_ThoughJunctionNeverSyncedThemSubscribed()
    {
        _kit.AddSubscriber(Email, "active", Paid); // signed up through a Kit form

        var result = await _connector.DeliverAsync(Work(Contact(false, [Paid]) with { OptedOut = true }, last: Contact(false, [Paid])), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal("cancelled", _kit.StateOf(Email));
        Assert.Equal([Paid], _kit.TagsOf(Email));
        Assert.Equal(1, Calls("POST /v4/subscribers/"));

        // Already opted out when last synced: nothing more to cancel.
        var again = await _connector.DeliverAsync(Work(Contact(false, [Paid]) with { OptedOut = true }, last: Contact(false, [Paid]) with { OptedOut = true }), default);
        Assert.Equal(DeliveryOutcome.Succeeded, again.Outcome);
        Assert.Equal(1, Calls("POST /v4/subscribers/"));
    }

    [Fact]
    public async Task Unsubscribe_CancelsTheSubscriber_AndKeepsItsTags()
    {
        _kit.AddSubscriber(Email, "active", Paid);

        var result = await _connector.DeliverAsync(Work(Contact(false, [Paid]), last: Contact(true, [Paid])), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal("cancelled", _kit.StateOf(Email));
        Assert.Equal([Paid], _kit.TagsOf(Email));
        Assert.Equal(1, Calls("POST /v4/subscribers/"));
        Assert.Equal(0, Exactly("POST /v4/subscribers"));
    }

    [Fact]
    public async Task EmailChange_MovesTheSubscriber_WithItsTags()
    {
        _kit.AddSubscriber("old@example.com", "active", Paid, "Webinar 2025");

        var result = await _connector.DeliverAsync(Work(Contact(true, [Paid]), last: Contact(true, [Paid]) with { Email = "old@example.com" }), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(1, _kit.SubscriberCount);
        Assert.Null(_kit.StateOf("old@example.com"));
        Assert.Equal([Paid, "Webinar 2025"], _kit.TagsOf(Email));
        Assert.Equal(1, Calls("PUT /v4/subscribers/"));
    }

    [Fact]
    public async Task EmailChange_WhenKitNoLongerHasTheOldAddress_SyncsTheNewOneInFull()
    {
        var result = await _connector.DeliverAsync(Work(Contact(true, [Paid]), last: Contact(true, [Paid]) with { Email = "old@example.com" }), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal("active", _kit.StateOf(Email));
        Assert.Equal([Paid], _kit.TagsOf(Email));
    }

    [Fact]
    public async Task TagIds_AreLookedUpOncePerConnector()
    {
        _kit.AddTag(Paid);

        await _connector.DeliverAsync(Work(Contact(true, [Paid])), default);
        await _connector.DeliverAsync(Work(Contact(true, [Paid]) with { Email = "bob@example.com" }), default);

        Assert.Equal(1, Calls("GET /v4/tags"));
        Assert.Equal(0, Exactly("POST /v4/tags"));
        Assert.Equal([Paid], _kit.TagsOf("bob@example.com"));
        Assert.Equal([Paid], _kit.TagNames()); // not created twice
    }

    [Fact]
    public async Task TagDeletedInKit_AfterItsIdWasCached_IsCreatedAgain()
    {
        await _connector.DeliverAsync(Work(Contact(true, [Paid])), default);
        _kit.DeleteTag(Paid);

        var result = await _connector.DeliverAsync(Work(Contact(true, [Paid]) with { Email = "bob@example.com" }), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal([Paid], _kit.TagsOf("bob@example.com"));
    }

    [Fact]
    public async Task ExistingTag_IsFoundOnALaterPage()
    {
        _kit.TagPageSize = 2;
        foreach (var name in new[] { "a", "b", "c", "d" }) _kit.AddTag(name);
        _kit.AddTag(Paid);

        var result = await _connector.DeliverAsync(Work(Contact(true, [Paid])), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(3, Calls("GET /v4/tags"));
        Assert.Equal(5, _kit.TagNames().Count);
        Assert.Equal([Paid], _kit.TagsOf(Email));
    }

    [Fact]
    public async Task RateLimited_WithoutRetryAfter_WaitsTheDocumentedMinute_AndIsNotAFailure()
    {
        _kit.RateLimitNext(1);

        var result = await _connector.DeliverAsync(Work(Contact(true, [Paid])), default);

        Assert.Equal((DeliveryOutcome.RateLimited, 429, TimeSpan.FromSeconds(60)), (result.Outcome, result.Status, result.RetryAfter));
        Assert.Equal("Retry later", result.Response);
        Assert.Equal(0, _kit.SubscriberCount);
    }

    [Fact]
    public async Task RateLimited_HonoursRetryAfter_InSecondsOrAsADate()
    {
        _kit.RateLimitNext(1, "7");
        var seconds = await _connector.DeliverAsync(Work(Contact(true)), default);
        _kit.RateLimitNext(1, Now.AddSeconds(42).ToString("r", CultureInfo.InvariantCulture));
        var date = await _connector.DeliverAsync(Work(Contact(true)), default);

        Assert.Equal(TimeSpan.FromSeconds(7), seconds.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(42), date.RetryAfter);
    }

    [Fact]
    public async Task ServerError_IsTransient_AndTheRetryConverges()
    {
        _kit.FailNext(1, 502);

        var failed = await _connector.DeliverAsync(Work(Contact(true, [Paid])), default);
        var retried = await _connector.DeliverAsync(Work(Contact(true, [Paid])), default);

        Assert.Equal((DeliveryOutcome.Transient, 502), (failed.Outcome, failed.Status));
        Assert.Equal(DeliveryOutcome.Succeeded, retried.Outcome);
        Assert.Equal([Paid], _kit.TagsOf(Email));
        Assert.Equal(1, _kit.SubscriberCount);
    }

    [Fact]
    public async Task WrongApiKey_IsPermanent_AndSaysToCheckCredentials()
    {
        var connector = DestinationConnectors.Create(Config(_kit.BaseUrl, "wrong-key"), _http, _time);

        var result = await connector.DeliverAsync(Work(Contact(true)), default);

        Assert.Equal((DeliveryOutcome.Permanent, 401), (result.Outcome, result.Status));
        Assert.Contains("check credentials", result.Error, StringComparison.Ordinal);
        Assert.Contains("The access token is invalid", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key", string.Join('\n', result.Requests), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidEmail_IsPermanent_WithKitsMessage()
    {
        var result = await _connector.DeliverAsync(Work(Contact(true) with { Email = "not-an-address" }), default);

        Assert.Equal((DeliveryOutcome.Permanent, 422), (result.Outcome, result.Status));
        Assert.Contains("Email address is invalid", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionRefused_IsTransient()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        var connector = new KitConnector(Config(new Uri($"http://127.0.0.1:{port}")), _http, _time);

        var result = await connector.DeliverAsync(Work(Contact(true)), default);

        Assert.Equal((DeliveryOutcome.Transient, null), (result.Outcome, result.Status));
        Assert.StartsWith("connection failed", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Requests);
    }

    [Fact]
    public async Task Timeout_IsTransient()
    {
        using var impatient = new HttpClient { Timeout = TimeSpan.FromMilliseconds(300) };
        var connector = DestinationConnectors.Create(Config(_kit.BaseUrl), impatient, _time);
        _kit.DelayNext(1, TimeSpan.FromSeconds(5));

        var result = await connector.DeliverAsync(Work(Contact(true)), default);

        Assert.Equal((DeliveryOutcome.Transient, "timed out"), (result.Outcome, result.Error));
    }

    [Fact]
    public async Task Cancellation_IsNotMistakenForATimeout()
    {
        _kit.DelayNext(1, TimeSpan.FromSeconds(5));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _connector.DeliverAsync(Work(Contact(true)), cts.Token));
    }

    [Fact]
    public async Task UnreadableSuccessBody_IsTransient_AndKeptForTheDlq()
    {
        _kit.TagsAnswerHtml = true;

        var result = await _connector.DeliverAsync(Work(Contact(true, [Paid])), default);

        Assert.Equal((DeliveryOutcome.Transient, 200), (result.Outcome, result.Status));
        Assert.Contains("Maintenance", result.Response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventWork_IsRefused()
    {
        var result = await _connector.DeliverAsync(new DeliveryWork { TaskId = 2, PersonId = "p", Kind = DeliveryKinds.Event, IdempotencyKey = "k" }, default);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Empty(_kit.Api.Requests);
    }
}
