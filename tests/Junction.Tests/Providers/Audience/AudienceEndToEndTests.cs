using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Tests.Support;

namespace Junction.Tests.Providers.Audience;

/// <summary>Kit, Mailchimp and ActiveCampaign webhooks through the real HTTP intake to canonical events.</summary>
public sealed class AudienceEndToEndTests : IAsyncLifetime
{
    private const string KitSecret = "kit_e2e_endpoint_secret_91c4";
    private const string KitToken = "kit_e2e_legacy_token_5d1e";
    private const string MailchimpToken = "mc_e2e_token_2f8a4c6e";
    private const string AcToken = "ac_e2e_token_7b3d9e1f";
    private const string GumroadToken = "gr_tok_e2e_4c1d9a7f3b2e";

    private JunctionServer? _server;

    private JunctionServer Server => _server!;

    public async ValueTask InitializeAsync()
    {
        _server = await JunctionServer.StartAsync(new JunctionConfig
        {
            Storage = TestStorage.NewSqlite(),
            Admin = new AdminConfig([JunctionServer.AdminToken]),
            Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
            {
                ["kit"] = new() { Id = "kit", Provider = "kit", Secrets = [KitSecret, KitToken] },
                ["mc"] = new() { Id = "mc", Provider = "mailchimp", Secrets = [MailchimpToken] },
                ["ac"] = new() { Id = "ac", Provider = "activecampaign", Secrets = [AcToken] },
                ["gum"] = new() { Id = "gum", Provider = "gumroad", Secrets = [GumroadToken] },
            },
            Path = "test.yaml",
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private static async Task<(string Id, bool Duplicate)> Accepted(HttpResponseMessage response)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var json = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (json.GetProperty("id").GetString()!, json.GetProperty("duplicate").GetBoolean());
        }
    }

    private static string? Str(JsonElement e, string path)
    {
        foreach (var part in path.Split('.')) e = e.GetProperty(part);
        return e.ValueKind == JsonValueKind.Null ? null : e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText();
    }

    private static JsonElement Only(Normalized n, string type)
    {
        Assert.True(n.Status == "mapped", $"{n.Status}: {n.Reason}");
        return Assert.Single(n.Events, e => e.GetProperty("type").GetString() == type);
    }

    private Task<HttpResponseMessage> PostKit(string body, long? timestamp = null, string secret = KitSecret) =>
        Server.PostAsync("kit", Encoding.UTF8.GetBytes(body), "application/json", new Dictionary<string, string>
        {
            ["X-Kit-Signature"] = AudienceKit.Kit(timestamp ?? TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(), body, secret),
            ["X-Kit-Delivery"] = "123456",
        });

    [Fact]
    public async Task Kit_SignedBatchOfThree_IsThreeCanonicalEvents_AndARetryIsADuplicate()
    {
        var body = KitTests.TagBatch();
        var (rawId, _) = await Accepted(await PostKit(body));

        var n = await Server.NormalizedAsync(rawId);

        Assert.Equal("mapped", n.Status);
        Assert.Equal(3, n.Events.Count);
        Assert.All(n.Events, e => Assert.Equal("tag.added", Str(e, "type")));
        Assert.All(n.Events, e => Assert.Equal("kit", Str(e, "source")));
        Assert.All(n.Events, e => Assert.Equal("paid:course-x", e.GetProperty("tags")[0].GetString()));
        Assert.All(n.Events, e => Assert.Equal("2026-11-20T14:32:10Z", Str(e, "occurred_at")));
        Assert.Equal(["ada@example.com", "alan@example.com", "grace@example.com"], n.Events.Select(e => Str(e, "subject.email")).Order(StringComparer.Ordinal));
        Assert.Equal(3, n.Events.Select(e => Str(e, "id")).Distinct().Count());

        // Kit's retry: same delivery id and events, fresh timestamp and signature.
        var (retryId, duplicate) = await Accepted(await PostKit(body, TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() + 30));
        Assert.True(duplicate);
        Assert.Equal(rawId, retryId);
    }

    [Fact]
    public async Task Kit_ForgedStaleOrUnsignedWithoutToken_IsRefused_AndNothingIsStored()
    {
        var body = KitTests.TagBatch();
        using var forged = await PostKit(body, secret: "kit_attacker_secret_000000");
        using var stale = await PostKit(body, TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() - 900);
        using var unsigned = await Server.PostAsync("kit", Encoding.UTF8.GetBytes(body), "application/json");

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Empty(await Server.AllRawEventsAsync("kit"));
    }

    [Fact]
    public async Task Kit_LegacyRules_ByUrlToken_TheRuleEventAndTagComeFromTheUrl()
    {
        var body = $$"""{"subscriber":{{KitTests.Subscriber()}}}""";
        var bytes = Encoding.UTF8.GetBytes(body);

        var (activateRaw, _) = await Accepted(await Server.PostAsync("kit", bytes, "application/json", query: $"token={KitToken}&event=subscriber.subscriber_activate"));
        var (tagRaw, tagDuplicate) = await Accepted(await Server.PostAsync("kit", bytes, "application/json", query: $"token={KitToken}&event=subscriber.tag_add&tag_id=4451"));

        Assert.False(tagDuplicate); // the same body from another rule is another event
        var optin = Only(await Server.NormalizedAsync(activateRaw), "optin");
        Assert.Equal("ada@example.com", Str(optin, "subject.email"));
        Assert.Equal("987654", Str(optin, "subject.customer_id"));
        Assert.Equal("true", Str(optin.GetProperty("consent")[0], "granted"));
        Assert.Equal("email", Str(optin.GetProperty("consent")[0], "channel"));
        Assert.Equal("instagram", Str(optin, "attribution.utm_source"));
        var tag = Only(await Server.NormalizedAsync(tagRaw), "tag.added");
        Assert.Equal("4451", tag.GetProperty("tags")[0].GetString());

        using var wrong = await Server.PostAsync("kit", bytes, "application/json", query: "token=kit_wrong_token_00000000&event=subscriber.tag_add&tag_id=4451");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task Kit_LegacyListOfThreeSubscribers_IsThreeEvents()
    {
        var body = $$"""{"subscribers":[{{KitTests.Subscriber(1, "a@example.com")}},{{KitTests.Subscriber(2, "b@example.com")}},{{KitTests.Subscriber(3, "c@example.com")}}]}""";

        var (rawId, _) = await Accepted(await Server.PostAsync("kit", Encoding.UTF8.GetBytes(body), "application/json",
            query: $"token={KitToken}&event=subscriber.subscriber_unsubscribe"));
        var n = await Server.NormalizedAsync(rawId);

        Assert.Equal(3, n.Events.Count);
        Assert.All(n.Events, e => Assert.Equal("unsubscribe", Str(e, "type")));
        Assert.All(n.Events, e => Assert.Equal("false", Str(e.GetProperty("consent")[0], "granted")));
        Assert.Equal(["a@example.com", "b@example.com", "c@example.com"], n.Events.Select(e => Str(e, "subject.email")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Kit_UnknownEventType_IsRecordedAsIgnored()
    {
        var body = KitTests.Delivery(77, KitTests.Event("4d3c2b1a-9999-4f5e-8d7c-6b5a4f3e2d1c", "custom_field.created", """{"custom_field":{"id":1}}"""));
        var (rawId, _) = await Accepted(await PostKit(body));

        var n = await Server.NormalizedAsync(rawId);

        Assert.Equal("ignored", n.Status);
        Assert.Empty(n.Events);
    }

    [Fact]
    public async Task Mailchimp_UrlValidationGet_Is200_AndStoresNothing()
    {
        using var withToken = await Server.Client.GetAsync($"/v1/hooks/mc?token={MailchimpToken}");
        using var bare = await Server.Client.GetAsync("/v1/hooks/mc");

        Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bare.StatusCode);
        Assert.Empty(await Server.AllRawEventsAsync("mc"));
    }

    [Fact]
    public async Task Get_OnOtherProvidersAndUnknownSources_StaysMethodNotAllowed()
    {
        using var gumroad = await Server.Client.GetAsync($"/v1/hooks/gum?token={GumroadToken}");
        using var kit = await Server.Client.GetAsync("/v1/hooks/kit");
        using var unknown = await Server.Client.GetAsync("/v1/hooks/nope");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, gumroad.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, kit.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, unknown.StatusCode);
        Assert.Contains("POST", gumroad.Content.Headers.Allow);
        Assert.Empty(await Server.AllRawEventsAsync("gum"));
    }

    private Task<HttpResponseMessage> PostForm(string source, string body, string? token) =>
        Server.PostAsync(source, Encoding.UTF8.GetBytes(body), AudienceKit.Form, query: token is null ? null : "token=" + token);

    [Fact]
    public async Task Mailchimp_SubscribeThenUpemail_AndARetryIsADuplicate()
    {
        var (subRaw, _) = await Accepted(await PostForm("mc", MailchimpTests.Subscribe(), MailchimpToken));
        var optin = Only(await Server.NormalizedAsync(subRaw), "optin");

        Assert.Equal("mailchimp", Str(optin, "provider"));
        Assert.Equal("subscribe", Str(optin, "provider_type"));
        Assert.Equal("2009-03-26T21:35:57Z", Str(optin, "occurred_at"));
        Assert.Equal("api@mailchimp.com", Str(optin, "subject.email"));
        Assert.Equal("8a25ff1d98", Str(optin, "subject.customer_id"));
        Assert.Equal("Mailchimp API", Str(optin, "subject.name"));
        var consent = optin.GetProperty("consent")[0];
        Assert.Equal("email", Str(consent, "channel"));
        Assert.Equal("true", Str(consent, "granted"));
        Assert.Equal("mailchimp list a6b5da1054", Str(consent, "source"));
        Assert.Equal("2009-03-26T21:35:57Z", Str(consent, "at"));

        var (retryRaw, duplicate) = await Accepted(await PostForm("mc", MailchimpTests.Subscribe(), MailchimpToken));
        Assert.True(duplicate);
        Assert.Equal(subRaw, retryRaw);

        var (upRaw, _) = await Accepted(await PostForm("mc", MailchimpTests.Upemail(), MailchimpToken));
        var changed = Only(await Server.NormalizedAsync(upRaw), "email.changed");
        Assert.Equal("api+new@mailchimp.com", Str(changed, "subject.email"));
        Assert.Equal("api+old@mailchimp.com", Str(changed, "subject.previous_email"));
    }

    [Fact]
    public async Task Mailchimp_AbuseUnsubscribe_IsASpamComplaint_UnknownTypeIsIgnored_BadTokenIs401()
    {
        var (abuseRaw, _) = await Accepted(await PostForm("mc", MailchimpTests.Unsubscribe("abuse"), MailchimpToken));
        var complaint = Only(await Server.NormalizedAsync(abuseRaw), "spam_complaint");
        Assert.Equal("false", Str(complaint.GetProperty("consent")[0], "granted"));

        var (otherRaw, _) = await Accepted(await PostForm("mc", MailchimpTests.Subscribe().Replace("type=subscribe", "type=audience_export", StringComparison.Ordinal), MailchimpToken));
        var other = await Server.NormalizedAsync(otherRaw);
        Assert.Equal("ignored", other.Status);
        Assert.Equal("Mailchimp audience_export is not an event Junction uses", other.Reason);

        var before = (await Server.AllRawEventsAsync("mc")).Count;
        using var missing = await PostForm("mc", MailchimpTests.Cleaned("abuse"), token: null);
        using var wrong = await PostForm("mc", MailchimpTests.Cleaned("abuse"), "mc_not_the_token_000");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(before, (await Server.AllRawEventsAsync("mc")).Count);
    }

    [Fact]
    public async Task ActiveCampaign_SubscribeAndTagAdded_InUtcWithTheOriginalOffset()
    {
        var (subRaw, _) = await Accepted(await PostForm("ac", ActiveCampaignTests.Hook("subscribe"), AcToken));
        var optin = Only(await Server.NormalizedAsync(subRaw), "optin");
        Assert.Equal("2026-11-20T14:15:30Z", Str(optin, "occurred_at"));
        Assert.Equal("-05:00", Str(optin, "original_timezone"));
        Assert.Equal("lin.chen@example.com", Str(optin, "subject.email"));
        Assert.Equal("1207", Str(optin, "subject.customer_id"));
        Assert.Equal("activecampaign list 3", Str(optin.GetProperty("consent")[0], "source"));

        var (tagRaw, _) = await Accepted(await PostForm("ac", ActiveCampaignTests.Hook("contact_tag_added", extra: ("tag", "paid:course-x")), AcToken));
        var tag = Only(await Server.NormalizedAsync(tagRaw), "tag.added");
        Assert.Equal("paid:course-x", tag.GetProperty("tags")[0].GetString());

        var (unsubRaw, _) = await Accepted(await PostForm("ac", ActiveCampaignTests.Hook("unsubscribe"), AcToken));
        Only(await Server.NormalizedAsync(unsubRaw), "unsubscribe");

        using var wrong = await PostForm("ac", ActiveCampaignTests.Hook("subscribe"), "ac_wrong_token_0000000");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }
}
