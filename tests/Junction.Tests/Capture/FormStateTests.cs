using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Junction.Dispatch;
using Junction.Identity;
using Junction.State;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Project;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Junction.Tests.Capture.CaptureKit;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Capture;

/// <summary>
/// What anyone on the internet can change through POST /v1/forms/{source}, end to end: intake →
/// normalize → project (→ Mailchimp at its fake), people and conflicts read over the admin API.
/// </summary>
public abstract class FormStateTests : IAsyncLifetime
{
    private const string Open = "open";
    private const string DoubleOptIn = "doi";
    private const string MailchimpSource = "mc";
    private const string MailchimpToken = "mc_forms_token_7d1e9a3c";

    private JunctionServer? _server;
    private FakeMailchimp? _mailchimp;

    protected JunctionServer Server => _server!;
    private FakeMailchimp Mailchimp => _mailchimp!;

    protected abstract Task<string> StorageAsync();

    public async ValueTask InitializeAsync()
    {
        _mailchimp = await FakeMailchimp.StartAsync();
        var baseConfig = ProjectKit.Config(await StorageAsync());
        var sources = new Dictionary<string, Junction.Config.SourceConfig>(baseConfig.Sources, StringComparer.Ordinal)
        {
            [Landing] = baseConfig.Sources[Landing] with
            {
                Options = new Dictionary<string, string>(baseConfig.Sources[Landing].Options, StringComparer.Ordinal) { ["allowed_tags"] = "waitlist" },
            },
            [Open] = new() { Id = Open, Provider = "form", Secrets = [], Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["allow_withdraw"] = "true" } },
            [DoubleOptIn] = new() { Id = DoubleOptIn, Provider = "form", Secrets = [], Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["double_opt_in"] = "true" } },
            [MailchimpSource] = new() { Id = MailchimpSource, Provider = "mailchimp", Secrets = [MailchimpToken] },
        };
        var mailchimp = new DestinationConfig
        {
            Id = "mc-out", Type = DestinationTypes.Mailchimp, Traits = DestinationTypes.TraitsOf(DestinationTypes.Mailchimp), BaseUrl = Mailchimp.BaseUrl, RateLimit = 100, RetryBaseDelay = TimeSpan.FromMilliseconds(100),
            Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["api_key"] = FakeMailchimp.ApiKey },
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["list_id"] = FakeMailchimp.ListId },
        };
        var config = baseConfig with
        {
            Sources = sources,
            Policy = ProjectKit.Rules with { Tags = new HashSet<string>(ProjectKit.Rules.Tags, StringComparer.Ordinal) { "waitlist", "vip" } },
            Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal) { [mailchimp.Id] = mailchimp },
        };
        var dispatch = new DispatchOptions { WorkerId = "forms", PollInterval = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(500) };
        _server = await JunctionServer.StartAsync(config, services: s => s.AddSingleton(dispatch));
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_mailchimp is not null) await _mailchimp.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private async Task<string> FormAsync(string json, string source = Landing)
    {
        using var response = await PostJsonAsync(Server.Client, $"/v1/forms/{source}", json);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private static bool Projected(JsonElement person, string eventId) =>
        person.GetProperty("attribution").GetProperty("last_touch") is { ValueKind: JsonValueKind.Object } touch
        && touch.GetProperty("event_id").GetString() == eventId;

    private static JsonElement? EmailConsent(JsonElement person) =>
        person.GetProperty("consent").ValueKind == JsonValueKind.Array
            ? person.GetProperty("consent").EnumerateArray().Cast<JsonElement?>().FirstOrDefault(c => c!.Value.GetProperty("channel").GetString() == "email")
            : null;

    [Fact]
    public async Task FormPost_WithPaidTag_DoesNotGrantIt_AndRecordsDrift()
    {
        var id = await FormAsync("""{"email":"victim@example.com","consent_email":true,"tags":"paid:course-pro","utm_source":"x"}""");

        var person = await PersonAsync(Server, "/v1/people?email=victim@example.com", p => Projected(p, id));
        Assert.DoesNotContain("paid:course-pro", Strings(person.GetProperty("tags")));
        Assert.Empty(person.GetProperty("entitlements").EnumerateArray());
        var drift = Assert.Single(person.GetProperty("tag_drift").EnumerateArray());
        Assert.Equal("paid:course-pro", drift.GetProperty("tag").GetString());
        Assert.Equal(id, drift.GetProperty("event_id").GetString());
        Assert.Equal(TagDriftReasons.ProductGranted, drift.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task FormPost_WithAllowedTag_AppliesIt_AndAVocabularyTagTheSourceDoesNotAllow_IsDrift()
    {
        var id = await FormAsync("""{"email":"wanda@example.com","tags":["waitlist","vip"],"utm_source":"x"}""");

        var person = await PersonAsync(Server, "/v1/people?email=wanda@example.com", p => Projected(p, id));
        Assert.Equal(["waitlist"], Strings(person.GetProperty("tags")));
        var drift = Assert.Single(person.GetProperty("tag_drift").EnumerateArray());
        Assert.Equal("vip", drift.GetProperty("tag").GetString());
        Assert.Equal(TagDriftReasons.NotAllowedForSource, drift.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task FirstFormPost_WithoutConsent_RecordsNoConsent_AndASecondWithoutConsentLeavesAGrantStanding()
    {
        var none = await FormAsync("""{"email":"nick@example.com","utm_source":"a"}""");
        var nick = await PersonAsync(Server, "/v1/people?email=nick@example.com", p => Projected(p, none));
        Assert.Null(EmailConsent(nick));

        var first = await FormAsync("""{"email":"gina@example.com","consent_email":"on","utm_source":"a"}""");
        await PersonAsync(Server, "/v1/people?email=gina@example.com", p => Projected(p, first));
        var second = await FormAsync("""{"email":"gina@example.com","utm_source":"b"}""");

        var gina = await PersonAsync(Server, "/v1/people?email=gina@example.com", p => Projected(p, second));
        var consent = EmailConsent(gina)!.Value;
        Assert.True(consent.GetProperty("granted").GetBoolean());
        Assert.Equal(first, consent.GetProperty("event_id").GetString());
        await EventuallyAsync(() => Mailchimp.StatusOf("gina@example.com") == "subscribed", "gina subscribed at Mailchimp");
    }

    [Fact]
    public async Task FormPost_ExplicitNo_WithdrawsOnlyWhereTheSourceAllowsIt()
    {
        var grant = await FormAsync("""{"email":"lou@example.com","consent_email":"on","utm_source":"a"}""");
        await PersonAsync(Server, "/v1/people?email=lou@example.com", p => Projected(p, grant));
        var no = await FormAsync("""{"email":"lou@example.com","consent_email":"no","utm_source":"b"}""");
        var lou = await PersonAsync(Server, "/v1/people?email=lou@example.com", p => Projected(p, no));
        Assert.True(EmailConsent(lou)!.Value.GetProperty("granted").GetBoolean());
        Assert.Contains(lou.GetProperty("ignored_writes").EnumerateArray(), w => w.GetProperty("event_id").GetString() == no);

        var openGrant = await FormAsync("""{"email":"max@example.com","consent_email":"on","utm_source":"a"}""", Open);
        await PersonAsync(Server, "/v1/people?email=max@example.com", p => Projected(p, openGrant));
        var openNo = await FormAsync("""{"email":"max@example.com","consent_email":"no","utm_source":"b"}""", Open);
        var max = await PersonAsync(Server, "/v1/people?email=max@example.com", p => Projected(p, openNo));
        Assert.False(EmailConsent(max)!.Value.GetProperty("granted").GetBoolean());
    }

    [Fact]
    public async Task DoubleOptIn_FormPost_IsPendingAtMailchimp_UntilMailchimpReportsTheConfirmation()
    {
        var id = await FormAsync("""{"email":"dora@example.com","consent_email":"on","utm_source":"a"}""", DoubleOptIn);

        var dora = await PersonAsync(Server, "/v1/people?email=dora@example.com", p => Projected(p, id));
        Assert.False(EmailConsent(dora)!.Value.GetProperty("confirmed").GetBoolean());
        await EventuallyAsync(() => Mailchimp.StatusOf("dora@example.com") == "pending", "dora pending at Mailchimp");
        Assert.Equal(["dora@example.com"], Mailchimp.ConfirmationEmailsSent);

        // Dora clicks Mailchimp's link; Mailchimp reports the subscribe to its webhook.
        Assert.True(Mailchimp.Confirm("dora@example.com"));
        var firedAt = TimeProvider.System.GetUtcNow().AddMinutes(1).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var body = $"type=subscribe&fired_at={Uri.EscapeDataString(firedAt)}&data%5Bid%5D=d0a1&data%5Blist_id%5D={FakeMailchimp.ListId}"
            + "&data%5Bemail%5D=dora%40example.com&data%5Bemail_type%5D=html&data%5Bip_opt%5D=10.20.10.30";
        using var hook = await Server.PostAsync(MailchimpSource, Encoding.UTF8.GetBytes(body), "application/x-www-form-urlencoded", query: "token=" + MailchimpToken);
        Assert.Equal(HttpStatusCode.OK, hook.StatusCode);

        var confirmed = await PersonAsync(Server, "/v1/people?email=dora@example.com",
            p => EmailConsent(p) is { } c && c.GetProperty("confirmed").ValueKind != JsonValueKind.False);
        Assert.True(EmailConsent(confirmed)!.Value.GetProperty("granted").GetBoolean());
        // Junction now holds her as subscribed and says so (a no-op for a member already subscribed).
        await EventuallyAsync(() => Mailchimp.Api.Requests.Any(r => r.Request.StartsWith("PUT ", StringComparison.Ordinal)
            && r.Body.Contains("\"status\":\"subscribed\"", StringComparison.Ordinal)), "the confirmed state synced to Mailchimp");
        Assert.Equal("subscribed", Mailchimp.StatusOf("dora@example.com"));
        Assert.Single(Mailchimp.ConfirmationEmailsSent);
    }

    [Fact]
    public async Task FormPost_WithOnePersonsEmailAndAnothersPhone_DoesNotMergeThem_AndTheConflictIsListed()
    {
        var ada = await FormAsync("""{"email":"ada@example.com","consent_email":"on","utm_source":"a"}""");
        var a = (await PersonAsync(Server, "/v1/people?email=ada@example.com", p => Projected(p, ada))).GetProperty("id").GetString()!;
        await PostEventAsync(Server, """{"type":"optin","occurred_at":"2026-11-20T09:00:00Z","subject":{"email":"bo@example.com","phone":"+12125550100"},"consent":[{"channel":"email","granted":true}]}""");
        var b = (await PersonAsync(Server, "/v1/people?identifier=phone:%2B12125550100", _ => true)).GetProperty("id").GetString()!;
        Assert.NotEqual(a, b);

        var post = await FormAsync("""{"email":"ada@example.com","phone":"+1 212 555 0100","utm_source":"b"}""");

        await PersonAsync(Server, "/v1/people?email=ada@example.com", p => Projected(p, post));
        var stillB = await PersonAsync(Server, "/v1/people?email=bo@example.com", _ => true);
        Assert.Equal(b, stillB.GetProperty("id").GetString());
        Assert.Empty(stillB.GetProperty("merged_ids").EnumerateArray());
        Assert.Equal(a, (await PersonAsync(Server, "/v1/people?email=ada@example.com", _ => true)).GetProperty("id").GetString());

        using var anonymous = await Server.Client.GetAsync("/v1/identity/conflicts");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var conflicts = await GetJsonAsync(Server.Admin, "/v1/identity/conflicts");
        var conflict = Assert.Single(conflicts.GetProperty("items").EnumerateArray());
        Assert.Equal(post, conflict.GetProperty("event_id").GetString());
        Assert.Equal([a, b], Strings(conflict.GetProperty("people")).Order(StringComparer.Ordinal));
        Assert.Contains("phone:+12125550100", Strings(conflict.GetProperty("identifiers")));
        Assert.Equal(IdentityResolver.UnauthenticatedMergeReason, conflict.GetProperty("reason").GetString());
        Assert.Equal(a, conflict.GetProperty("attached_to").GetString());
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(15);
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            if (condition()) return;
            await Task.Delay(50);
        }
        Assert.True(condition(), what + " did not happen within 15 s");
    }
}

public sealed class SqliteFormStateTests : FormStateTests
{
    protected override Task<string> StorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresFormStateTests : FormStateTests
{
    protected override Task<string> StorageAsync() => TestStorage.NewPostgresAsync();
}
