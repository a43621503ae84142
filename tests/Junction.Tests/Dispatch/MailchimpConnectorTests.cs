using System.Globalization;
using System.Text;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;
using Junction.Integrations.Mailchimp;
using Junction.Tests.Dispatch.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Dispatch;

public sealed class MailchimpConnectorTests : IAsyncLifetime
{
    private const string Paid = "Customer - Course Pro";
    private const string Email = "Ada@Example.com";

    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly FakeTimeProvider _time = new(Now);
    private FakeMailchimp _mc = null!;
    private IDestinationConnector _connector = null!;

    public async ValueTask InitializeAsync()
    {
        _mc = await FakeMailchimp.StartAsync();
        _connector = DestinationConnectors.Create(Config(), _http, _time);
    }

    public async ValueTask DisposeAsync()
    {
        await _mc.DisposeAsync();
        _http.Dispose();
    }

    private DestinationConfig Config(string apiKey = FakeMailchimp.ApiKey, string listId = FakeMailchimp.ListId) => new()
    {
        Id = "mc",
        Type = DestinationTypes.Mailchimp, Traits = DestinationTypes.TraitsOf(DestinationTypes.Mailchimp),
        BaseUrl = _mc.BaseUrl,
        RateLimit = 10,
        Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["api_key"] = apiKey },
        Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["list_id"] = listId },
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
        IdempotencyKey = "mc:p_ada:1",
    };

    [Fact]
    public void SubscriberHash_IsTheMd5OfTheLowerCasedAddress()
    {
        // The example from Mailchimp's docs: md5("urist.mcvankab@freddiesjokes.com").
        Assert.Equal("62eeb292278cc15f5817cb78f7790b08", MailchimpConnector.SubscriberHash("Urist.McVankab@freddiesjokes.com"));
    }

    [Fact]
    public async Task PendingDoubleOptIn_IsAddedAsPending_ThenConfirmedConsentMakesTheMemberSubscribed()
    {
        var pending = Contact(false) with { Pending = true };

        var added = await _connector.DeliverAsync(Work(pending), default);
        Assert.Equal(DeliveryOutcome.Succeeded, added.Outcome);
        Assert.Equal("pending", _mc.StatusOf(Email));
        Assert.Equal([Email], _mc.ConfirmationEmailsSent);

        // A member Junction had as a plain buyer is moved to pending when a double opt-in is given.
        _mc.AddMember("buyer@example.com", "transactional");
        var buyer = await _connector.DeliverAsync(Work(pending with { Email = "buyer@example.com" }, last: Contact(false) with { Email = "buyer@example.com" }), default);
        Assert.Equal(DeliveryOutcome.Succeeded, buyer.Outcome);
        Assert.Equal("pending", _mc.StatusOf("buyer@example.com"));

        Assert.True(_mc.Confirm(Email));
        var confirmed = await _connector.DeliverAsync(Work(Contact(true), last: pending), default);
        Assert.Equal(DeliveryOutcome.Succeeded, confirmed.Outcome);
        Assert.Equal("subscribed", _mc.StatusOf(Email));
        Assert.Equal(2, _mc.ConfirmationEmailsSent.Count);
    }

    [Fact]
    public async Task NewBuyer_IsAddedAsTransactional_WithMergeFieldsAndTag()
    {
        var result = await _connector.DeliverAsync(Work(Contact(false, [Paid], new KeyValuePair<string, string>("LTV", "49.00"))), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal("transactional", _mc.StatusOf(Email));
        Assert.Equal("49.00", _mc.MergeFieldsOf(Email)["LTV"]);
        Assert.Equal([Paid], _mc.TagsOf(Email));
        var hash = MailchimpConnector.SubscriberHash(Email);
        Assert.Equal([$"PUT /3.0/lists/{FakeMailchimp.ListId}/members/{hash}", $"POST /3.0/lists/{FakeMailchimp.ListId}/members/{hash}/tags"],
            result.Requests.Select(r => string.Join(' ', r.Split(' ')[..2])));
        Assert.Contains("\"status_if_new\":\"transactional\"", result.Requests[0], StringComparison.Ordinal);
        Assert.DoesNotContain("\"status\":", result.Requests[0], StringComparison.Ordinal);
        Assert.All(_mc.Api.Requests, r => Assert.Equal(
            "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("junction:" + FakeMailchimp.ApiKey)), r.Headers["Authorization"]));
        Assert.DoesNotContain(result.Requests, r => r.Contains(FakeMailchimp.ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task NewSubscriber_IsSubscribed()
    {
        await _connector.DeliverAsync(Work(Contact(true)), default);

        Assert.Equal("subscribed", _mc.StatusOf(Email));
    }

    [Fact]
    public async Task Refund_MarksThePaidTagInactive_InOneCall()
    {
        _mc.AddMember(Email, "subscribed", Paid, "Webinar 2025");

        var result = await _connector.DeliverAsync(Work(Contact(true), last: Contact(true, [Paid])), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(["Webinar 2025"], _mc.TagsOf(Email));
        var request = Assert.Single(result.Requests);
        Assert.EndsWith("/tags {\"tags\":[{\"name\":\"Customer - Course Pro\",\"status\":\"inactive\"}]}", request, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OptOut_UnsubscribesAMemberMailchimpHadOnItsOwn_ThoughJunctionNeverSyncedThemSubscribed()
    {
        _mc.AddMember(Email, "subscribed", Paid); // signed up through a Mailchimp form

        var result = await _connector.DeliverAsync(Work(Contact(false, [Paid]) with { OptedOut = true }, last: Contact(false, [Paid])), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal("unsubscribed", _mc.StatusOf(Email));
        Assert.Contains("\"status\":\"unsubscribed\"", Assert.Single(result.Requests), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsubscribe_SetsStatusUnsubscribed()
    {
        _mc.AddMember(Email, "subscribed", Paid);

        var result = await _connector.DeliverAsync(Work(Contact(false, [Paid]), last: Contact(true, [Paid])), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal("unsubscribed", _mc.StatusOf(Email));
        Assert.Equal([Paid], _mc.TagsOf(Email));
        Assert.Contains("\"status\":\"unsubscribed\"", Assert.Single(result.Requests), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmailChange_MovesTheMember_WithItsTagsAndStatus()
    {
        _mc.AddMember("old@example.com", "subscribed", Paid, "Webinar 2025");

        var result = await _connector.DeliverAsync(Work(Contact(true, [Paid]), last: Contact(true, [Paid]) with { Email = "old@example.com" }), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Null(_mc.StatusOf("old@example.com"));
        Assert.Equal("subscribed", _mc.StatusOf(Email));
        Assert.Equal([Paid, "Webinar 2025"], _mc.TagsOf(Email));
        Assert.StartsWith("PATCH ", Assert.Single(result.Requests), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmailChange_ToAnAddressAlreadyOnTheList_SyncsThatMemberInFull()
    {
        _mc.AddMember("old@example.com", "subscribed", Paid);
        _mc.AddMember(Email, "subscribed");

        var result = await _connector.DeliverAsync(Work(Contact(true, [Paid]), last: Contact(true, [Paid]) with { Email = "old@example.com" }), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal([Paid], _mc.TagsOf(Email));
    }

    [Fact]
    public async Task NothingChanged_MakesNoCall()
    {
        var same = Contact(true, [Paid]);

        var result = await _connector.DeliverAsync(Work(same, last: same), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(_mc.Api.Requests);
    }

    [Fact]
    public async Task ResubscribingAMemberWhoUnsubscribedInMailchimp_IsPermanent_MemberInComplianceState()
    {
        _mc.AddMember(Email, "unsubscribed");

        var result = await _connector.DeliverAsync(Work(Contact(true), last: Contact(false)), default);

        Assert.Equal((DeliveryOutcome.Permanent, 400), (result.Outcome, result.Status));
        Assert.StartsWith("400 Bad Request: Member In Compliance State", result.Error, StringComparison.Ordinal);
        Assert.Contains("compliance state", result.Response, StringComparison.Ordinal);
        Assert.Equal("unsubscribed", _mc.StatusOf(Email));
    }

    [Fact]
    public async Task ForgottenAddress_IsPermanent()
    {
        _mc.Forget(Email);

        var result = await _connector.DeliverAsync(Work(Contact(true, [Paid])), default);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("Forgotten Email Not Subscribed", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Requests); // the tag call is not attempted
    }

    [Fact]
    public async Task TooManyConnections_IsRateLimited_WithoutAWaitWhenMailchimpGivesNone()
    {
        _mc.RateLimitNext(1);

        var result = await _connector.DeliverAsync(Work(Contact(true)), default);

        Assert.Equal((DeliveryOutcome.RateLimited, 429, (TimeSpan?)null), (result.Outcome, result.Status, result.RetryAfter));
        Assert.Contains("10 simultaneous connections", result.Error, StringComparison.Ordinal);
        Assert.Null(_mc.StatusOf(Email));
    }

    [Fact]
    public async Task RateLimited_HonoursRetryAfter_InSecondsOrAsADate()
    {
        _mc.RateLimitNext(1, "3");
        var seconds = await _connector.DeliverAsync(Work(Contact(true)), default);
        _mc.RateLimitNext(1, Now.AddMinutes(2).ToString("r", CultureInfo.InvariantCulture));
        var date = await _connector.DeliverAsync(Work(Contact(true)), default);

        Assert.Equal(TimeSpan.FromSeconds(3), seconds.RetryAfter);
        Assert.Equal(TimeSpan.FromMinutes(2), date.RetryAfter);
    }

    [Fact]
    public async Task ServiceUnavailable_IsTransient_AndTheRetryConverges()
    {
        _mc.FailNext(1, 503);

        var failed = await _connector.DeliverAsync(Work(Contact(true, [Paid])), default);
        var retried = await _connector.DeliverAsync(Work(Contact(true, [Paid])), default);

        Assert.Equal((DeliveryOutcome.Transient, 503), (failed.Outcome, failed.Status));
        Assert.Contains("Service Unavailable", failed.Error, StringComparison.Ordinal);
        Assert.Equal(DeliveryOutcome.Succeeded, retried.Outcome);
        Assert.Equal([Paid], _mc.TagsOf(Email));
    }

    [Fact]
    public async Task WrongApiKey_IsPermanent_ApiKeyInvalid()
    {
        var connector = DestinationConnectors.Create(Config(apiKey: "ffffffffffffffffffffffffffffffff-us21"), _http, _time);

        var result = await connector.DeliverAsync(Work(Contact(true)), default);

        Assert.Equal((DeliveryOutcome.Permanent, 401), (result.Outcome, result.Status));
        Assert.Contains("check credentials", result.Error, StringComparison.Ordinal);
        Assert.Contains("API Key Invalid", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownList_IsPermanent_ResourceNotFound()
    {
        var connector = DestinationConnectors.Create(Config(listId: "nope"), _http, _time);

        var result = await connector.DeliverAsync(Work(Contact(true)), default);

        Assert.Equal((DeliveryOutcome.Permanent, 404), (result.Outcome, result.Status));
        Assert.Contains("Resource Not Found", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidAddress_IsPermanent_WithTheFieldErrors()
    {
        var result = await _connector.DeliverAsync(Work(Contact(true) with { Email = "not-an-address" }), default);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("Invalid Resource", result.Error, StringComparison.Ordinal);
        Assert.Contains("email_address", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void LongResponses_AreTruncatedForTheDlq()
    {
        Assert.Equal(DestinationHttp.MaxResponseChars, DestinationHttp.Truncate(new string('x', 10_000))!.Length);
        Assert.Equal("short", DestinationHttp.Truncate("short"));
    }

    [Fact]
    public void Factory_RefusesATypeWithoutAConnector()
    {
        var unknown = Config() with { Type = "nosuchtool" };

        Assert.Throws<NotSupportedException>(() => DestinationConnectors.Create(unknown, _http, _time));
    }
}
