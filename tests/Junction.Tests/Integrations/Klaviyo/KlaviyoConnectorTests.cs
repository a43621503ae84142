using Junction.Audit;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;
using Junction.Integrations.Klaviyo;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Integrations.Klaviyo;

/// <summary>The Klaviyo connector against the stateful fake: profile import, tags as a property or as lists, consent jobs, order events with unique_id, failures classified.</summary>
public sealed class KlaviyoConnectorTests : IAsyncLifetime
{
    private const string PaidTag = "Customer - Course Pro";
    private const string VipTag = "list:" + FakeKlaviyo.VipListId;
    private const string Email = "ada@example.com";

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private FakeKlaviyo _klaviyo = null!;
    private IDestinationConnector _connector = null!;

    public async ValueTask InitializeAsync()
    {
        _klaviyo = await FakeKlaviyo.StartAsync();
        _connector = DestinationConnectors.Create(Config(_klaviyo.BaseUrl), _http, _time);
    }

    public async ValueTask DisposeAsync()
    {
        await _klaviyo.DisposeAsync();
        _http.Dispose();
    }

    internal static DestinationConfig Config(Uri baseUrl, string apiKey = FakeKlaviyo.ApiKey) => new()
    {
        Id = "klaviyo-main",
        Type = KlaviyoDestination.Type, Traits = DestinationTypes.TraitsOf(KlaviyoDestination.Type),
        BaseUrl = baseUrl,
        RateLimit = KlaviyoDestination.DefaultRate,
        Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["api_key"] = apiKey },
        Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["list_id"] = FakeKlaviyo.ListId },
        Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["paid:course-pro"] = PaidTag, ["vip"] = VipTag },
    };

    private static DesiredContact Contact(bool subscribed, string[]? tags = null, bool optedOut = false, bool pending = false, params KeyValuePair<string, string>[] fields) => new()
    {
        Email = Email,
        Subscribed = subscribed,
        OptedOut = optedOut,
        Pending = pending,
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
        IdempotencyKey = "klaviyo-main:p_ada:1",
    };

    [Fact]
    public async Task Purchase_ImportsTheProfile_WithTagsAsAProperty_AndSubscribesWithConsent_UnderTheCurrentRevision()
    {
        var desired = Contact(subscribed: true, [PaidTag], fields: [new("first_name", "Ada"), new("ltv_usd", "49.00")]);

        var result = await _connector.DeliverAsync(Work(desired), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal([PaidTag], _klaviyo.TagsOf(Email));
        var profile = _klaviyo.ProfileOf(Email)!;
        Assert.Equal("Ada", profile.Attributes["first_name"]);
        Assert.Equal("49.00", profile.Properties["ltv_usd"]!.GetValue<string>());
        Assert.Equal("SUBSCRIBED", _klaviyo.ConsentOf(Email));
        Assert.True(_klaviyo.InList(FakeKlaviyo.ListId, Email));
        Assert.Equal(KlaviyoDestination.Revision, _klaviyo.LastRevision);
        Assert.All(_klaviyo.Api.Requests, r => Assert.Equal("application/vnd.api+json", r.Headers["Content-Type"].Split(';')[0]));
    }

    [Fact]
    public async Task TagMappedToAList_AddsAndRemovesListMembership_NotTheProperty()
    {
        var vip = Contact(subscribed: false, [PaidTag, VipTag]);
        Assert.Equal(DeliveryOutcome.Succeeded, (await _connector.DeliverAsync(Work(vip), CancellationToken.None)).Outcome);
        Assert.True(_klaviyo.InList(FakeKlaviyo.VipListId, Email));
        Assert.Equal([PaidTag], _klaviyo.TagsOf(Email));

        var result = await _connector.DeliverAsync(Work(Contact(subscribed: false, [PaidTag]), vip), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.False(_klaviyo.InList(FakeKlaviyo.VipListId, Email));
        Assert.Equal([PaidTag], _klaviyo.TagsOf(Email));
        Assert.Equal(0, _klaviyo.Api.Count("POST /api/profile-subscription-bulk"));
    }

    [Fact]
    public async Task Refund_RewritesTheTagsProperty_WithoutTheRemovedTag()
    {
        var bought = Contact(subscribed: true, [PaidTag]);
        await _connector.DeliverAsync(Work(bought), CancellationToken.None);
        var before = _klaviyo.Api.Requests.Count;

        var result = await _connector.DeliverAsync(Work(Contact(subscribed: true), bought), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(_klaviyo.TagsOf(Email));
        Assert.Equal("SUBSCRIBED", _klaviyo.ConsentOf(Email));
        Assert.Equal(["POST /api/profile-import"], _klaviyo.Api.Requests.Skip(before).Select(r => r.Request).ToList());
    }

    [Fact]
    public async Task OptOut_RunsAnUnsubscribeJob_EvenWhenKlaviyoSubscribedThemOnItsOwn()
    {
        _klaviyo.AddProfile(Email, "SUBSCRIBED", lists: FakeKlaviyo.ListId);
        var last = Contact(subscribed: false, [PaidTag]);

        var result = await _connector.DeliverAsync(Work(Contact(subscribed: false, [PaidTag], optedOut: true), last), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal("UNSUBSCRIBED", _klaviyo.ConsentOf(Email));
        Assert.Equal(1, _klaviyo.Api.Count("POST /api/profile-subscription-bulk-delete-jobs"));
    }

    [Fact]
    public async Task NothingChanged_WritesNothing()
    {
        var same = Contact(subscribed: true, [PaidTag]);

        var result = await _connector.DeliverAsync(Work(same, same), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(_klaviyo.Api.Requests);
    }

    [Fact]
    public async Task EmailChange_UpdatesTheSameProfile_InsteadOfCreatingASecond()
    {
        var old = Contact(subscribed: true, [PaidTag]);
        await _connector.DeliverAsync(Work(old), CancellationToken.None);

        var result = await _connector.DeliverAsync(Work(old with { Email = "ada@new.example" }, old), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(1, _klaviyo.ProfileCount);
        Assert.Equal([PaidTag], _klaviyo.TagsOf("ada@new.example"));
    }

    [Fact]
    public async Task PlacedOrder_CarriesValueCurrencyAndTheIdempotencyKey_AndARetryIsOneEvent()
    {
        var work = EventWork(Paid("ord_1", 4900, "USD"), key: "klaviyo-main:evt_1");

        Assert.Equal(DeliveryOutcome.Succeeded, (await _connector.DeliverAsync(work, CancellationToken.None)).Outcome);
        Assert.Equal(DeliveryOutcome.Succeeded, (await _connector.DeliverAsync(work with { Attempt = 2 }, CancellationToken.None)).Outcome);

        var e = Assert.Single(_klaviyo.Events);
        Assert.Equal(KlaviyoDestination.PlacedOrder, e.Metric);
        Assert.Equal("klaviyo-main:evt_1", e.UniqueId);
        Assert.Equal(49.00m, e.Attributes["value"]!.GetValue<decimal>());
        Assert.Equal("USD", e.Attributes["value_currency"]!.GetValue<string>());
        Assert.Equal("ord_1", e.Attributes["properties"]!["OrderId"]!.GetValue<string>());
        Assert.Equal(2, _klaviyo.Api.Count("POST /api/events"));
    }

    [Fact]
    public async Task RefundedOrder_CarriesTheRefundedValue()
    {
        var result = await _connector.DeliverAsync(EventWork(Refunded("ord_1", 4900, 1500, full: false), key: "k:refund"), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        var e = Assert.Single(_klaviyo.Events);
        Assert.Equal(KlaviyoDestination.RefundedOrder, e.Metric);
        Assert.Equal(15.00m, e.Attributes["value"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task EventOtherThanAnOrder_SucceedsWithoutARequest()
    {
        var optin = Paid("ord_1") with { Type = Junction.Canonical.EventTypes.Optin, Order = null };

        var result = await _connector.DeliverAsync(EventWork(optin), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(_klaviyo.Api.Requests);
    }

    [Fact]
    public async Task ReadBack_RefusedKey_NamesTheCredentials()
    {
        var readBack = KlaviyoDestination.CreateReadBack(Config(_klaviyo.BaseUrl, apiKey: "pk_wrong"), _http, TimeProvider.System);

        var e = await Assert.ThrowsAsync<ReadBackException>(() => readBack.ReadAsync(_ => ValueTask.CompletedTask, CancellationToken.None));

        Assert.Contains("destinations.klaviyo-main.credentials", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimited_CarriesKlaviyosRetryAfter()
    {
        _klaviyo.RateLimitNext(1, retryAfter: "7");

        var result = await _connector.DeliverAsync(Work(Contact(subscribed: true)), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(7), result.RetryAfter);
        Assert.Contains("throttled", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerError_IsTransient_BadKey_IsPermanent_NamingTheCredential()
    {
        _klaviyo.FailNext(1, 503);
        Assert.Equal(DeliveryOutcome.Transient, (await _connector.DeliverAsync(Work(Contact(subscribed: true)), CancellationToken.None)).Outcome);

        var wrong = DestinationConnectors.Create(Config(_klaviyo.BaseUrl, apiKey: "pk_wrong"), _http, _time);
        var refused = await wrong.DeliverAsync(Work(Contact(subscribed: true)), CancellationToken.None);
        Assert.Equal(DeliveryOutcome.Permanent, refused.Outcome);
        Assert.Equal(401, refused.Status);
        Assert.Contains("check credentials", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("pk_wrong", string.Join("\n", refused.Requests) + refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidEmail_IsPermanent_WithKlaviyosMessage_AndTheAddressMasked()
    {
        var result = await _connector.DeliverAsync(Work(Contact(subscribed: true) with { Email = "ada@example" }), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(400, result.Status);
        Assert.Contains("invalid: Invalid email address", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("ada@example", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadBack_ReadsTheListInPages_WithConsent_TagProperties_AndListTags()
    {
        _klaviyo.MaxPage = 2;
        for (var i = 1; i <= 4; i++) _klaviyo.AddProfile($"fan{i}@example.com", i == 4 ? "UNSUBSCRIBED" : "SUBSCRIBED", [PaidTag], FakeKlaviyo.ListId);
        _klaviyo.AddProfile("buyer@example.com", tags: [PaidTag, "Not mapped"]); // a buyer without consent: outside the list
        _klaviyo.AddProfile("vip@example.com", lists: FakeKlaviyo.VipListId);
        var gated = 0;

        var read = await KlaviyoDestination.CreateReadBack(Config(_klaviyo.BaseUrl), _http, TimeProvider.System)
            .ReadAsync(_ => { gated++; return ValueTask.CompletedTask; }, CancellationToken.None);

        Assert.True(read.CoversSubscriptions);
        for (var i = 1; i <= 3; i++) Assert.Equal(ObservedStatus.Subscribed, read.Contacts[$"fan{i}@example.com"].Status);
        Assert.Equal(ObservedStatus.Unsubscribed, read.Contacts["fan4@example.com"].Status);
        Assert.Equal(ObservedStatus.None, read.Contacts["buyer@example.com"].Status);
        Assert.Equal([PaidTag], read.Contacts["buyer@example.com"].Tags.Keys);
        Assert.Equal([VipTag], read.Contacts["vip@example.com"].Tags.Keys);
        Assert.Equal(2, _klaviyo.Api.Count($"GET /api/lists/{FakeKlaviyo.ListId}/profiles"));
        Assert.Equal(read.ApiCalls, gated);
    }

    [Fact]
    public async Task ReadBack_WaitsOutA429_ThenReads()
    {
        _klaviyo.AddProfile(Email, "SUBSCRIBED", lists: FakeKlaviyo.ListId);
        _klaviyo.RateLimitNext(1, retryAfter: "1");

        var read = await KlaviyoDestination.CreateReadBack(Config(_klaviyo.BaseUrl), _http, TimeProvider.System)
            .ReadAsync(_ => ValueTask.CompletedTask, CancellationToken.None);

        Assert.Equal(ObservedStatus.Subscribed, read.Contacts[Email].Status);
        var calls = _klaviyo.Api.Requests.Select(r => r.At).ToList();
        Assert.True(calls[1] - calls[0] >= TimeSpan.FromMilliseconds(950), "the read asked again before Retry-After");
    }
}
