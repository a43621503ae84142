using Junction.Audit;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;
using Junction.Integrations.ActiveCampaign;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Integrations.ActiveCampaign;

/// <summary>The ActiveCampaign connector against the stateful fake: only differences written, tags created once, list status, custom fields, failures classified.</summary>
public sealed class ActiveCampaignConnectorTests : IAsyncLifetime
{
    private const string Paid = "Customer - Course Pro";
    private const string Email = "ada@example.com";

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private FakeActiveCampaign _ac = null!;
    private IDestinationConnector _connector = null!;

    public async ValueTask InitializeAsync()
    {
        _ac = await FakeActiveCampaign.StartAsync();
        _connector = DestinationConnectors.Create(Config(_ac.BaseUrl), _http, _time);
    }

    public async ValueTask DisposeAsync()
    {
        await _ac.DisposeAsync();
        _http.Dispose();
    }

    internal static DestinationConfig Config(Uri baseUrl, string apiKey = FakeActiveCampaign.ApiKey, bool list = true) => new()
    {
        Id = "ac-main",
        Type = ActiveCampaignDestination.Type, Traits = DestinationTypes.TraitsOf(ActiveCampaignDestination.Type),
        BaseUrl = baseUrl,
        RateLimit = ActiveCampaignDestination.DefaultRate,
        Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["api_key"] = apiKey },
        Options = list ? new Dictionary<string, string>(StringComparer.Ordinal) { ["list_id"] = FakeActiveCampaign.ListId } : new Dictionary<string, string>(StringComparer.Ordinal),
        Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["paid:course-pro"] = Paid },
    };

    private static DesiredContact Contact(bool subscribed, string[]? tags = null, bool optedOut = false, params KeyValuePair<string, string>[] fields) => new()
    {
        Email = Email,
        Subscribed = subscribed,
        OptedOut = optedOut,
        Tags = tags ?? [],
        Fields = fields,
    };

    [Fact]
    public async Task Erase_DeletesTheContactOfEveryAddress_AndANeverKnownAddressIsDoneToo()
    {
        _ac.AddContact(Email, listStatus: 1, Paid);
        _ac.AddContact("ada.work@example.com");
        _ac.AddContact("someone.else@example.com");
        var work = new DeliveryWork
        {
            TaskId = 2,
            PersonId = "p_ada",
            Kind = DeliveryKinds.Erase,
            Erase = new ContactErasure { ErasureId = "er_1", Emails = [Email, "ada.work@example.com", "never.there@example.com"] },
            IdempotencyKey = "ac-main:er_1",
        };

        var result = await _connector.DeliverAsync(work, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Null(_ac.ContactOf(Email));
        Assert.Null(_ac.ContactOf("ada.work@example.com"));
        Assert.NotNull(_ac.ContactOf("someone.else@example.com"));
        Assert.Equal(1, _ac.ContactCount);
        // Again (a retry after a lost answer): nothing left to delete, still a success.
        Assert.Equal(DeliveryOutcome.Succeeded, (await _connector.DeliverAsync(work, CancellationToken.None)).Outcome);
    }

    private static DeliveryWork Work(DesiredContact desired, DesiredContact? last = null) => new()
    {
        TaskId = 1,
        PersonId = "p_ada",
        Kind = DeliveryKinds.State,
        Desired = desired,
        LastSynced = last,
        IdempotencyKey = "ac-main:p_ada:1",
    };

    [Fact]
    public async Task Purchase_SyncsTheContact_CreatesTheTagOnce_TagsAndSubscribes()
    {
        var desired = Contact(subscribed: true, [Paid], fields: new KeyValuePair<string, string>("first_name", "Ada"));

        var result = await _connector.DeliverAsync(Work(desired), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal([Paid], _ac.TagsOf(Email));
        Assert.Equal(1, _ac.ListStatusOf(Email));
        Assert.Equal("Ada", _ac.ContactOf(Email)!.FirstName);
        Assert.Equal(1, _ac.Api.Count("POST /api/3/tags"));

        // A second person: the tag id is cached, nothing is looked up or created again.
        var bob = await _connector.DeliverAsync(Work(desired with { Email = "bob@example.com" }), CancellationToken.None);
        Assert.Equal(DeliveryOutcome.Succeeded, bob.Outcome);
        Assert.Equal(1, _ac.TagCount(Paid));
        Assert.Equal(1, _ac.Api.Count("GET /api/3/tags"));
        Assert.Equal([Paid], _ac.TagsOf("bob@example.com"));
    }

    [Fact]
    public async Task ExistingTag_IsFoundBySearch_NotCreatedAgain_EvenWhenAnotherTagContainsItsName()
    {
        _ac.AddTag(Paid + " (old)");
        var existing = _ac.AddTag(Paid);

        var result = await _connector.DeliverAsync(Work(Contact(subscribed: false, [Paid])), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(0, _ac.Api.Count("POST /api/3/tags"));
        Assert.Contains(result.Requests, r => r.Contains($"\"tag\":\"{existing}\"", StringComparison.Ordinal));
        Assert.Equal([Paid], _ac.TagsOf(Email));
    }

    [Fact]
    public async Task RetryAfterATimeout_DoesNotDoubleTheTag()
    {
        var desired = Contact(subscribed: false, [Paid]);
        Assert.Equal(DeliveryOutcome.Succeeded, (await _connector.DeliverAsync(Work(desired), CancellationToken.None)).Outcome);

        // The dispatcher never saw the answer and delivers the same work again.
        Assert.Equal(DeliveryOutcome.Succeeded, (await _connector.DeliverAsync(Work(desired), CancellationToken.None)).Outcome);

        Assert.Equal(1, _ac.ContactTagCount(Email, Paid));
        Assert.Equal(1, _ac.ContactCount);
    }

    [Fact]
    public async Task Refund_RemovesOnlyTheTag_AndWritesNothingElse()
    {
        var bought = Contact(subscribed: true, [Paid]);
        await _connector.DeliverAsync(Work(bought), CancellationToken.None);
        var before = _ac.Api.Requests.Count;

        var result = await _connector.DeliverAsync(Work(Contact(subscribed: true), bought), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(_ac.TagsOf(Email));
        Assert.Equal(1, _ac.ListStatusOf(Email));
        var calls = _ac.Api.Requests.Skip(before).Select(r => r.Request.Split(' ')[0] + " " + r.Request.Split(' ')[1].Split('?')[0]).ToList();
        Assert.Equal(["GET /api/3/contacts", $"GET /api/3/contacts/{_ac.ContactOf(Email)!.Id}/contactTags", $"DELETE /api/3/contactTags/{calls[^1].Split('/')[^1]}"], calls);
    }

    [Fact]
    public async Task OptOut_UnsubscribesFromTheList_EvenWhenActiveCampaignSubscribedThemOnItsOwn()
    {
        _ac.AddContact(Email, listStatus: 1);
        var last = Contact(subscribed: false, [Paid]); // Junction never had consent; ActiveCampaign's own form did

        var result = await _connector.DeliverAsync(Work(Contact(subscribed: false, [Paid], optedOut: true), last), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(2, _ac.ListStatusOf(Email));
    }

    [Fact]
    public async Task CustomFields_AreResolvedByPersonalizationTagOrTitle_AndCached()
    {
        _ac.MaxPage = 1; // every field on its own page: all pages are read
        var ltv = _ac.AddField("Lifetime value", "LTV");
        var status = _ac.AddField("Buyer status", "BUYER_STATUS_2");
        var desired = Contact(subscribed: false, [Paid], fields: [new("%LTV%", "49.00"), new("Buyer status", "customer")]);

        var result = await _connector.DeliverAsync(Work(desired), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        var contact = _ac.ContactOf(Email)!;
        Assert.Equal("49.00", contact.Fields[ltv]);
        Assert.Equal("customer", contact.Fields[status]);
        Assert.Equal(2, _ac.Api.Count("GET /api/3/fields"));
        await _connector.DeliverAsync(Work(desired with { Email = "bob@example.com" }), CancellationToken.None);
        Assert.Equal(2, _ac.Api.Count("GET /api/3/fields")); // cached
    }

    [Fact]
    public async Task UnknownCustomField_IsPermanent_AndNamesTheFieldAndTheConfigKey()
    {
        var result = await _connector.DeliverAsync(Work(Contact(subscribed: false, [Paid], fields: new KeyValuePair<string, string>("LTV", "1"))), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("'LTV'", result.Error, StringComparison.Ordinal);
        Assert.Contains("destinations.ac-main.fields", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, _ac.Api.Count("POST /api/3/contact/sync"));
    }

    [Fact]
    public async Task RateLimited_CarriesRetryAfter_FromActiveCampaignsHeader()
    {
        _ac.RateLimitNext(1, retryAfter: "30");

        var result = await _connector.DeliverAsync(Work(Contact(subscribed: true, [Paid])), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(30), result.RetryAfter);
    }

    [Fact]
    public async Task ServerError_IsTransient_BadToken_IsPermanent_NamingTheCredential_WithoutTheEmail()
    {
        _ac.FailNext(1, 503);
        Assert.Equal(DeliveryOutcome.Transient, (await _connector.DeliverAsync(Work(Contact(subscribed: true)), CancellationToken.None)).Outcome);

        var wrong = DestinationConnectors.Create(Config(_ac.BaseUrl, apiKey: "nope"), _http, _time);
        var refused = await wrong.DeliverAsync(Work(Contact(subscribed: true)), CancellationToken.None);
        Assert.Equal(DeliveryOutcome.Permanent, refused.Outcome);
        Assert.Equal(403, refused.Status);
        Assert.Contains("check credentials", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Email, refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidEmail_IsPermanent_WithActiveCampaignsMessage()
    {
        var result = await _connector.DeliverAsync(Work(Contact(subscribed: true) with { Email = "not-an-address" }), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(422, result.Status);
        Assert.Contains("Contact Email Address is not valid", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventWork_IsRefusedForGood_WithoutARequest()
    {
        var result = await _connector.DeliverAsync(Junction.Tests.Dispatch.ConnectorTestKit.EventWork(Junction.Tests.Dispatch.ConnectorTestKit.Paid()), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("desired-state deliveries only", result.Error, StringComparison.Ordinal);
        Assert.Empty(_ac.Api.Requests);
    }

    [Fact]
    public async Task BaseUrlWithApi3_IsNotDoubled()
    {
        var connector = DestinationConnectors.Create(Config(new Uri(_ac.BaseUrl, "/api/3")), _http, _time);

        var result = await connector.DeliverAsync(Work(Contact(subscribed: true)), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(1, _ac.ListStatusOf(Email));
    }

    [Fact]
    public async Task EmailChange_MovesTheContact_InsteadOfCreatingASecond()
    {
        var old = Contact(subscribed: true, [Paid]);
        await _connector.DeliverAsync(Work(old), CancellationToken.None);

        var result = await _connector.DeliverAsync(Work(old with { Email = "ada@new.example" }, old), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(1, _ac.ContactCount);
        Assert.Equal([Paid], _ac.TagsOf("ada@new.example"));
    }

    [Fact]
    public async Task ReadBack_ReadsTaggedContacts_InPages_AndListStatuses()
    {
        _ac.MaxPage = 2;
        for (var i = 1; i <= 5; i++) _ac.AddContact($"buyer{i}@example.com", listStatus: i == 5 ? 2 : 1, Paid);
        _ac.AddContact("lead@example.com", listStatus: 1);
        var gated = 0;
        var readBack = ActiveCampaignDestination.CreateReadBack(Config(_ac.BaseUrl), _http, TimeProvider.System);

        var read = await readBack.ReadAsync(_ => { gated++; return ValueTask.CompletedTask; }, CancellationToken.None);

        Assert.True(read.CoversSubscriptions);
        Assert.Equal(6, read.Contacts.Count);
        for (var i = 1; i <= 4; i++) Assert.Equal(ObservedStatus.Subscribed, read.Contacts[$"buyer{i}@example.com"].Status);
        Assert.Equal(ObservedStatus.Unsubscribed, read.Contacts["buyer5@example.com"].Status);
        Assert.All(Enumerable.Range(1, 5), i => Assert.Equal([Paid], read.Contacts[$"buyer{i}@example.com"].Tags.Keys));
        Assert.Empty(read.Contacts["lead@example.com"].Tags);
        Assert.Equal(3, _ac.Api.Count("GET /api/3/contacts?tagid="));
        Assert.Equal(read.ApiCalls, gated);
        Assert.Empty(read.Missing);
    }

    [Fact]
    public async Task ReadBack_WaitsOutA429_AndReportsAMappedTagActiveCampaignLacks()
    {
        _ac.RateLimitNext(1, retryAfter: "1");
        var readBack = ActiveCampaignDestination.CreateReadBack(Config(_ac.BaseUrl, list: false), _http, TimeProvider.System);

        var read = await readBack.ReadAsync(_ => ValueTask.CompletedTask, CancellationToken.None);

        Assert.False(read.CoversSubscriptions);
        Assert.Equal([$"tag '{Paid}'"], read.Missing);
        var calls = _ac.Api.Requests.Select(r => r.At).ToList();
        Assert.True(calls[1] - calls[0] >= TimeSpan.FromMilliseconds(950), "the read asked again before Retry-After");
    }

    [Fact]
    public async Task ReadBack_RefusedToken_NamesTheCredentials()
    {
        var readBack = ActiveCampaignDestination.CreateReadBack(Config(_ac.BaseUrl, apiKey: "nope"), _http, TimeProvider.System);

        var e = await Assert.ThrowsAsync<ReadBackException>(() => readBack.ReadAsync(_ => ValueTask.CompletedTask, CancellationToken.None));

        Assert.Contains("destinations.ac-main.credentials", e.Message, StringComparison.Ordinal);
    }
}
