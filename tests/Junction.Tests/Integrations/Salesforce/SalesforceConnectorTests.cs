using Junction.Audit;
using Junction.Dispatch;
using Junction.Integrations.Salesforce;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Integrations.Salesforce;

public sealed class SalesforceConnectorTests : IAsyncLifetime
{
    private const string Email = "ada@example.com";
    private const string Paid = "Paid: Course Pro";
    private const string Upsert = "PATCH /services/data/v62.0/sobjects/Contact/Junction_Email__c/";

    private readonly HttpClient _http = Http();
    private readonly FakeTimeProvider _time = new(Now);
    private FakeSalesforce _sf = null!;

    public async ValueTask InitializeAsync() => _sf = await FakeSalesforce.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _sf.DisposeAsync();
        _http.Dispose();
    }

    private DestinationConfig Config(string secret = FakeSalesforce.ClientSecret, bool tags = true)
    {
        var options = new Dictionary<string, string> { [SalesforceDestination.ExternalIdField] = FakeSalesforce.ExternalId };
        if (tags) options[SalesforceDestination.TagsField] = FakeSalesforce.TagsField;
        return DestConfig(SalesforceDestination.Type, _sf.BaseUrl,
            new() { [SalesforceDestination.ClientId] = FakeSalesforce.ClientId, [SalesforceDestination.ClientSecret] = secret }, options) with
        {
            Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["paid:course-pro"] = Paid, ["customer"] = "Customer" },
        };
    }

    private IDestinationConnector Connector(string secret = FakeSalesforce.ClientSecret) => SalesforceDestination.CreateConnector(Config(secret), _http, _time);

    private static DesiredContact Contact(bool subscribed = false, bool optedOut = false, string[]? tags = null, params KeyValuePair<string, string>[] fields) => new()
    {
        Email = Email,
        Subscribed = subscribed,
        OptedOut = optedOut,
        Tags = tags ?? [],
        Fields = fields.Length > 0 ? fields : [new("LastName", "Lovelace")],
    };

    [Fact]
    public async Task NewContact_IsUpsertedByTheExternalIdField_WithFieldsTagsAndConsent()
    {
        var result = await Connector().DeliverAsync(StateWork(Contact(subscribed: true, tags: ["Customer", Paid], fields: [new("LastName", "Lovelace"), new("Lifetime_Value__c", "49.00")])), default);

        Assert.True(result.Outcome == DeliveryOutcome.Succeeded, result.Error);
        var c = _sf.ContactOf(Email)!;
        Assert.Equal("Lovelace", c["LastName"]!.GetValue<string>());
        Assert.Equal("49.00", c["Lifetime_Value__c"]!.GetValue<string>());
        Assert.Equal(Email, c["Email"]!.GetValue<string>());
        Assert.False(c["HasOptedOutOfEmail"]!.GetValue<bool>());
        Assert.Equal(["Customer", Paid], _sf.TagsOf(Email));
        Assert.Equal(1, _sf.Api.Count("POST /services/oauth2/token"));
        Assert.Equal(1, _sf.Api.Count(Upsert + Email));
        Assert.DoesNotContain(FakeSalesforce.ClientSecret, string.Join("\n", result.Requests), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTokenIsCached_AcrossDeliveries()
    {
        var connector = Connector();
        await connector.DeliverAsync(StateWork(Contact(tags: [Paid])), default);
        await connector.DeliverAsync(StateWork(Contact(), Contact(tags: [Paid])), default);

        Assert.Equal(1, _sf.TokensIssued);
        Assert.Equal(2, _sf.Api.Count(Upsert));
    }

    [Fact]
    public async Task RefundRemovesTheTag_AndOptOutSetsHasOptedOutOfEmail_SendingOnlyChanges()
    {
        var connector = Connector();
        var before = Contact(subscribed: true, tags: ["Customer", Paid]);
        await connector.DeliverAsync(StateWork(before), default);

        var result = await connector.DeliverAsync(StateWork(Contact(optedOut: true, tags: ["Customer"]), before), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(["Customer"], _sf.TagsOf(Email));
        Assert.True(_sf.ContactOf(Email)!["HasOptedOutOfEmail"]!.GetValue<bool>());
        var last = _sf.Api.Requests.Last().Body;
        Assert.DoesNotContain("LastName", last, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LastTagRemoved_ClearsTheField()
    {
        var connector = Connector();
        await connector.DeliverAsync(StateWork(Contact(tags: [Paid])), default);

        await connector.DeliverAsync(StateWork(Contact(), Contact(tags: [Paid])), default);

        Assert.Empty(_sf.TagsOf(Email));
    }

    [Fact]
    public async Task ExpiredSession_IsRefreshedOnce_AndTheCallTriedOnceMore()
    {
        var connector = Connector();
        await connector.DeliverAsync(StateWork(Contact()), default);
        _sf.ExpireSessions();

        var result = await connector.DeliverAsync(StateWork(Contact(tags: [Paid]), Contact()), default);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(2, _sf.TokensIssued);
        Assert.Equal([Paid], _sf.TagsOf(Email));
    }

    [Fact]
    public async Task RefusedClientSecret_IsPermanent_NamingTheCredentials()
    {
        var result = await Connector("wrong-secret").DeliverAsync(StateWork(Contact()), default);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("invalid_client", result.Error, StringComparison.Ordinal);
        Assert.Contains("credentials.client_secret", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret", result.Error + string.Join("", result.Requests), StringComparison.Ordinal);
        Assert.Equal(0, _sf.Api.Count("PATCH"));
    }

    [Fact]
    public async Task RequiredFieldMissing_IsPermanent_NamingTheField()
    {
        var result = await Connector().DeliverAsync(StateWork(Contact(fields: [new("FirstName", "Ada")])), default);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(400, result.Status);
        Assert.Contains("REQUIRED_FIELD_MISSING", result.Error, StringComparison.Ordinal);
        Assert.Contains("(fields: LastName)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestLimitExceeded_IsRateLimited_NotDeadLettered()
    {
        _sf.LimitNext(1);

        var result = await Connector().DeliverAsync(StateWork(Contact()), default);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        Assert.Equal(403, result.Status);
        Assert.Equal(TimeSpan.FromMinutes(5), result.RetryAfter);
    }

    [Fact]
    public async Task ServiceUnavailable_IsTransient()
    {
        _sf.FailNext(1, 503);

        var result = await Connector().DeliverAsync(StateWork(Contact()), default);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
    }

    [Fact]
    public async Task EmailChange_MovesTheRecord_InOneCompositeRequest()
    {
        _sf.AddContact("old@example.com", (FakeSalesforce.TagsField, Paid));
        var last = Contact(tags: [Paid]) with { Email = "old@example.com" };

        var result = await Connector().DeliverAsync(StateWork(Contact(tags: [Paid]), last), default);

        Assert.True(result.Outcome == DeliveryOutcome.Succeeded, result.Error);
        Assert.Null(_sf.ContactOf("old@example.com"));
        Assert.Equal([Paid], _sf.TagsOf(Email));
        Assert.Equal(1, _sf.ContactCount);
        Assert.Equal(1, _sf.Api.Count("POST /services/data/v62.0/composite"));
        Assert.Equal(0, _sf.Api.Count("PATCH"));
    }

    [Fact]
    public async Task EmailChange_WhenTheOldRecordIsGone_CreatesTheNewOne()
    {
        var last = Contact(tags: [Paid]) with { Email = "old@example.com" };

        var result = await Connector().DeliverAsync(StateWork(Contact(tags: [Paid]), last), default);

        Assert.True(result.Outcome == DeliveryOutcome.Succeeded, result.Error);
        Assert.Equal([Paid], _sf.TagsOf(Email));
        Assert.Equal("Lovelace", _sf.ContactOf(Email)!["LastName"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReadBack_FollowsNextRecordsUrl_AndKeepsOnlyMappedTags()
    {
        _sf.PageSize = 2;
        _sf.AddContact("a@example.com", (FakeSalesforce.TagsField, Paid + ";Customer"));
        _sf.AddContact("B@Example.com", (FakeSalesforce.TagsField, "Customer;Webinar"));
        _sf.AddContact("c@example.com");
        var gated = 0;

        var read = await SalesforceDestination.CreateReadBack(Config(), _http, _time).ReadAsync(_ => { gated++; return ValueTask.CompletedTask; }, default);

        Assert.Equal(3, read.Contacts.Count);
        Assert.Equal(["Customer", Paid], read.Contacts["a@example.com"].Tags.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["Customer"], read.Contacts["b@example.com"].Tags.Keys);
        Assert.Empty(read.Contacts["c@example.com"].Tags);
        Assert.Equal(1, _sf.Api.Count("GET /services/data/v62.0/query?q="));
        Assert.Equal(1, _sf.Api.Count("GET /services/data/v62.0/query/"));
        Assert.Equal(3, gated); // the token and two pages
    }

    [Fact]
    public async Task ReadBack_WithRefusedCredentials_Fails_NamingThem()
    {
        var config = Config() with
        {
            Credentials = new Dictionary<string, string> { [SalesforceDestination.ClientId] = FakeSalesforce.ClientId, [SalesforceDestination.ClientSecret] = "nope" },
        };

        var e = await Assert.ThrowsAsync<ReadBackException>(() => SalesforceDestination.CreateReadBack(config, _http, _time).ReadAsync(_ => ValueTask.CompletedTask, default));

        Assert.Contains("credentials.client_secret", e.Message, StringComparison.Ordinal);
    }
}
