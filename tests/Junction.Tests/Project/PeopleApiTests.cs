using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Junction.Tests.Support;
using static Junction.Tests.Capture.CaptureKit;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Project;

/// <summary>The project stage through the real intake: people, merges, timeline and overrides over real sockets.</summary>
public abstract class PeopleApiTests : IAsyncLifetime
{
    private JunctionServer? _server;

    protected JunctionServer Server => _server!;

    protected abstract Task<string> StorageAsync();

    public async ValueTask InitializeAsync() => _server = await JunctionServer.StartAsync(ProjectKit.Config(await StorageAsync()));

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Purchase_GrantsTheProduct_AndThePersonIsFoundByEmailIdentifierAndId()
    {
        await PostEventAsync(Server, OptIn("Ada@Example.com", "2026-11-20T10:00:00Z", anonymousId: "anon_1", utm: "ig"));
        await PostEventAsync(Server, Paid("ord_1", "ada@example.com", "2026-11-20T11:00:00Z"));

        var person = await PersonAsync(Server, "/v1/people?email=ADA@example.com", p => Has(p, "course-pro", "active"));
        var id = person.GetProperty("id").GetString()!;
        Assert.StartsWith("p_", id, StringComparison.Ordinal);
        Assert.Equal(["ada@example.com"], Strings(person.GetProperty("emails")));
        Assert.Contains("paid:course-pro", Strings(person.GetProperty("tags")));
        var order = Assert.Single(person.GetProperty("orders").EnumerateArray());
        Assert.Equal("ord_1", order.GetProperty("order_id").GetString());
        Assert.Equal("paid", order.GetProperty("status").GetString());
        Assert.Equal(4900, order.GetProperty("amount").GetInt64());
        Assert.Equal("ig", person.GetProperty("attribution").GetProperty("first_touch").GetProperty("utm_source").GetString());
        Assert.Contains(person.GetProperty("consent").EnumerateArray(), c => c.GetProperty("channel").GetString() == "email" && c.GetProperty("granted").GetBoolean());
        Assert.Contains(person.GetProperty("identifiers").EnumerateArray(), i => i.GetProperty("type").GetString() == "anonymous_id" && i.GetProperty("value").GetString() == "anon_1");

        var byIdentifier = await GetJsonAsync(Server.Admin, "/v1/people?identifier=anonymous_id:anon_1");
        var byOrder = await GetJsonAsync(Server.Admin, "/v1/people?identifier=order_id:ord_1");
        var byId = await GetJsonAsync(Server.Admin, $"/v1/people/{id}");
        Assert.Equal(id, byIdentifier.GetProperty("id").GetString());
        Assert.Equal(id, byOrder.GetProperty("id").GetString());
        Assert.Equal(id, byId.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Refund_RevokesTheProductAndItsTags()
    {
        await PostEventAsync(Server, Paid("ord_2", "bo@example.com", "2026-11-20T11:00:00Z"));
        await PersonAsync(Server, "/v1/people?email=bo@example.com", p => Has(p, "course-pro", "active"));
        await PostEventAsync(Server, Refund("ord_2", "bo@example.com", "2026-11-21T11:00:00Z"));

        var person = await PersonAsync(Server, "/v1/people?email=bo@example.com", p => Has(p, "course-pro", "revoked"));
        Assert.DoesNotContain("paid:course-pro", Strings(person.GetProperty("tags")));
        Assert.Equal("refunded", person.GetProperty("orders")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task GuestCheckoutWithAnotherEmail_JoinsTheLeadThroughThePurchaseToken_AndAMergedIdAnswersWithTheSurvivor()
    {
        // Two people at first: a lead (with the purchase token from the landing page) and a buyer with another address.
        await PostEventAsync(Server, """{"type":"optin","occurred_at":"2026-11-20T09:00:00Z","subject":{"email":"cy@example.com","purchase_token":"jt_cy"},"consent":[{"channel":"email","granted":true}]}""");
        await PostEventAsync(Server, """{"type":"optin","occurred_at":"2026-11-20T09:30:00Z","subject":{"email":"cy.work@example.com","customer_id":"cus_cy"},"consent":[{"channel":"email","granted":true}]}""");
        var lead = await PersonAsync(Server, "/v1/people?email=cy@example.com", _ => true);
        var buyer = await PersonAsync(Server, "/v1/people?email=cy.work@example.com", _ => true);
        Assert.NotEqual(lead.GetProperty("id").GetString(), buyer.GetProperty("id").GetString());

        // The purchase carries both: the work email and the lead's purchase token.
        await PostEventAsync(Server, Paid("ord_3", "cy.work@example.com", "2026-11-20T12:00:00Z", token: "jt_cy"));

        var merged = await PersonAsync(Server, "/v1/people?email=cy.work@example.com", p => p.GetProperty("emails").GetArrayLength() == 2);
        Assert.Equal(lead.GetProperty("id").GetString(), merged.GetProperty("id").GetString());
        Assert.Equal("cy.work@example.com", merged.GetProperty("purchase_email").GetString());
        Assert.Contains(buyer.GetProperty("id").GetString(), Strings(merged.GetProperty("merged_ids")));
        var viaOldId = await GetJsonAsync(Server.Admin, $"/v1/people/{buyer.GetProperty("id").GetString()}");
        Assert.Equal(lead.GetProperty("id").GetString(), viaOldId.GetProperty("id").GetString());
        Assert.True(Has(viaOldId, "course-pro", "active"));
        Assert.Equal("email", Assert.Single(viaOldId.GetProperty("consent").EnumerateArray()).GetProperty("channel").GetString());
    }

    [Fact]
    public async Task Timeline_ShowsRawCanonicalMergeAndStateChange_InOrder_WithTraceIds()
    {
        await PostEventAsync(Server, """{"type":"optin","occurred_at":"2026-11-20T09:00:00Z","subject":{"email":"di@example.com","purchase_token":"jt_di"},"consent":[{"channel":"email","granted":true}]}""");
        await PostEventAsync(Server, """{"type":"optin","occurred_at":"2026-11-20T09:10:00Z","subject":{"email":"di2@example.com"},"consent":[{"channel":"email","granted":true}]}""");
        await PersonAsync(Server, "/v1/people?email=di2@example.com", _ => true);
        await PostEventAsync(Server, Paid("ord_4", "di2@example.com", "2026-11-20T10:00:00Z", token: "jt_di"));
        var person = await PersonAsync(Server, "/v1/people?email=di@example.com", p => Has(p, "course-pro", "active"));

        var timeline = await GetJsonAsync(Server.Admin, $"/v1/people/{person.GetProperty("id").GetString()}/timeline");
        var items = timeline.GetProperty("items").EnumerateArray().ToList();
        var kinds = items.Select(i => i.GetProperty("kind").GetString()).ToList();
        Assert.Equal(3, kinds.Count(k => k == "raw_event"));
        Assert.Equal(3, kinds.Count(k => k == "canonical_event"));
        Assert.Contains("merge", kinds);
        Assert.Contains(items, i => i.GetProperty("kind").GetString() == "state_change" && i.GetProperty("summary").GetString()!.Contains("entitlement course-pro: active", StringComparison.Ordinal));
        var times = items.Select(i => DateTimeOffset.Parse(i.GetProperty("at").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(times.Order(), times);
        Assert.All(items.Where(i => i.GetProperty("kind").GetString() is "raw_event" or "canonical_event"),
            i => Assert.False(string.IsNullOrEmpty(i.GetProperty("trace_id").GetString())));
        var paid = items.Single(i => i.GetProperty("kind").GetString() == "canonical_event" && i.GetProperty("summary").GetString()!.StartsWith("order.paid", StringComparison.Ordinal));
        var paidRaw = items.Where(i => i.GetProperty("kind").GetString() == "raw_event").Select(i => i.GetProperty("trace_id").GetString()).ToList();
        Assert.Contains(paid.GetProperty("trace_id").GetString(), paidRaw);
    }

    [Fact]
    public async Task Override_RevokesUntilCleared_AndBadOverridesAre422NamingTheField()
    {
        await PostEventAsync(Server, Paid("ord_5", "ed@example.com", "2026-11-20T11:00:00Z"));
        var person = await PersonAsync(Server, "/v1/people?email=ed@example.com", p => Has(p, "course-pro", "active"));
        var id = person.GetProperty("id").GetString()!;

        using (var bad = await PostJsonAsync(Server.Admin, $"/v1/people/{id}/overrides", """{"action":"revoke","product":"nope"}"""))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
            var detail = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
            Assert.Contains("product: 'nope' is not in products", detail, StringComparison.Ordinal);
            Assert.Contains("reason: required", detail, StringComparison.Ordinal);
        }
        using (var revoke = await PostJsonAsync(Server.Admin, $"/v1/people/{id}/overrides", """{"action":"revoke","product":"course-pro","reason":"chargeback by phone"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
            var answer = await revoke.Content.ReadFromJsonAsync<JsonElement>();
            var ent = Entitlement(answer.GetProperty("person"), "course-pro");
            Assert.Equal("revoked", ent.GetProperty("state").GetString());
            Assert.Equal("chargeback by phone", ent.GetProperty("reason").GetString());
            Assert.DoesNotContain("paid:course-pro", Strings(answer.GetProperty("person").GetProperty("tags")));
        }
        using (var clear = await PostJsonAsync(Server.Admin, $"/v1/people/{id}/overrides", """{"action":"clear","product":"course-pro"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, clear.StatusCode);
            Assert.Equal("active", Entitlement((await clear.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("person"), "course-pro").GetProperty("state").GetString());
        }

        // Both overrides (not the refused one) are in the operations log, by the token's name.
        var operations = (await GetJsonAsync(Server.Admin, "/v1/operations")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["clear", "revoke"], operations.Select(o => o.GetProperty("detail").GetProperty("action").GetString()));
        Assert.All(operations, o =>
        {
            Assert.Equal("people.override", o.GetProperty("action").GetString());
            Assert.Equal(id, o.GetProperty("target").GetString());
            Assert.Equal("token-1", o.GetProperty("actor").GetString());
        });
        Assert.Equal("chargeback by phone", operations[1].GetProperty("detail").GetProperty("reason").GetString());
    }

    [Fact]
    public async Task People_NeedTheAdminToken_AndUnknownOrMalformedLookupsAreClearErrors()
    {
        using var anonymous = await Server.Client.GetAsync("/v1/people?email=x@example.com");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var missing = await Server.Admin.GetAsync("/v1/people?email=nobody@example.com");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var bad = await Server.Admin.GetAsync("/v1/people?identifier=shoe_size:42");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("identifier: expected TYPE:VALUE", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var none = await Server.Admin.GetAsync("/v1/people");
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
    }
}

public sealed class SqlitePeopleApiTests : PeopleApiTests
{
    protected override Task<string> StorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresPeopleApiTests : PeopleApiTests
{
    protected override Task<string> StorageAsync() => TestStorage.NewPostgresAsync();
}
