using System.Net;
using Junction.Tests.Support;
using static Junction.Tests.Capture.CaptureKit;

namespace Junction.Tests.Capture;

/// <summary>POST /v1/forms/{source} over a real socket: answers, CORS, honeypot, validation, and the optin events stored.</summary>
public sealed class FormsEndpointTests : IAsyncLifetime
{
    private JunctionServer? _server;
    private HttpClient? _browser;

    private JunctionServer Server => _server!;

    /// <summary>Like a browser's form navigation: redirects are not followed, so the 303 is visible.</summary>
    private HttpClient Browser => _browser!;

    public async ValueTask InitializeAsync()
    {
        _server = await JunctionServer.StartAsync(ServerConfig());
        _browser = NoRedirects(_server);
    }

    public async ValueTask DisposeAsync()
    {
        _browser?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact]
    public async Task FormEncodedPost_Answers303ToTheThankYouPage_AndStoresAnOptinWithAttributionAndFirstTouch()
    {
        var body = FormBody(
            ("email", "  Ada.Lovelace@Example.COM "), ("name", "Ada Lovelace"), ("consent_email", "on"),
            ("utm_source", "newsletter"), ("utm_medium", "email"), ("utm_campaign", "black-friday"),
            ("first_utm_source", "ig"), ("first_utm_campaign", "launch"), ("first_landing_page", "https://creator.example/?utm_source=ig"),
            ("referrer", "https://mail.example/"), ("landing_page", "https://creator.example/offer?utm_source=newsletter"),
            ("purchase_token", "jt_0a1b2c3d4e5f"), ("anonymous_id", "ja_998877"), ("submission_id", "js_form_1"), ("website", ""));

        using var response = await PostFormAsync(Browser, body);

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal(Thanks, response.Headers.Location?.ToString());
        var raw = Assert.Single(await Server.AllRawEventsAsync(Landing));
        Assert.Equal("submission:js_form_1", raw.GetProperty("dedup_key").GetString());
        var e = await SingleEventAsync(Server, raw.GetProperty("id").GetString()!);
        Assert.Equal("optin", e.Str("type"));
        Assert.Equal("form", e.Str("provider"));
        Assert.Equal(Landing, e.Str("source"));
        Assert.Equal("ada.lovelace@example.com", e.Str("subject.email"));
        Assert.Equal("Ada Lovelace", e.Str("subject.name"));
        Assert.Equal("jt_0a1b2c3d4e5f", e.Str("subject.purchase_token"));
        Assert.Equal("ja_998877", e.Str("subject.anonymous_id"));
        Assert.True(e.Consent("email").GetProperty("granted").GetBoolean());
        Assert.Equal("form landing", e.Consent("email").Str("source"));
        Assert.Equal("newsletter", e.Str("attribution.utm_source"));
        Assert.Equal("email", e.Str("attribution.utm_medium"));
        Assert.Equal("black-friday", e.Str("attribution.utm_campaign"));
        Assert.Equal("https://mail.example/", e.Str("attribution.referrer"));
        Assert.Equal("https://creator.example/offer?utm_source=newsletter", e.Str("attribution.landing_page"));
        Assert.Equal("ig", e.Str("first_touch.utm_source"));
        Assert.Equal("launch", e.Str("first_touch.utm_campaign"));
        Assert.Null(e.Str("first_touch.utm_medium"));
        Assert.Equal("https://creator.example/?utm_source=ig", e.Str("first_touch.landing_page"));
    }

    [Fact]
    public async Task JsonPost_Answers200WithTheEventId_ThatTheStoredEventHas()
    {
        using var response = await PostJsonAsync(Server.Client, "/v1/forms/landing",
            """{"email":"grace@example.com","phone":"+44 20 7946 0958","consent_email":true,"consent_sms":"yes","utm_source":"podcast","tags":"waitlist, course-x"}""",
            origin: AllowedOrigin);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await JsonAsync(response);
        var id = answer.GetProperty("id").GetString()!;
        Assert.StartsWith("ce_", id, StringComparison.Ordinal);
        Assert.False(answer.GetProperty("duplicate").GetBoolean());
        var e = await SingleEventAsync(Server, answer.GetProperty("raw_id").GetString()!);
        Assert.Equal(id, e.Str("id"));
        Assert.Equal("grace@example.com", e.Str("subject.email"));
        Assert.Equal("+442079460958", e.Str("subject.phone"));
        Assert.True(e.Consent("email").GetProperty("granted").GetBoolean());
        Assert.True(e.Consent("sms").GetProperty("granted").GetBoolean());
        Assert.Equal("podcast", e.Str("attribution.utm_source"));
        Assert.Null(e.Str("first_touch"));
        Assert.Equal(["waitlist", "course-x"], e.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task AbsentConsent_IsNoConsentChange_AndAnExplicitNo_IsRecordedAsNotGranted_PerChannel()
    {
        // A browser sends nothing for an unticked checkbox (no change); a hidden "false" may precede a checkbox.
        using var none = await PostJsonAsync(Server.Client, "/v1/forms/landing", """{"email":"a@example.com","consent_sms":"on"}""");
        using var explicitNo = await PostFormAsync(Browser, FormBody(("email", "b@example.com"), ("consent_email", "false"), ("consent_whatsapp", "0")));

        var a = await SingleEventAsync(Server, (await JsonAsync(none)).GetProperty("raw_id").GetString()!);
        Assert.DoesNotContain(a.GetProperty("consent").EnumerateArray(), c => c.GetProperty("channel").GetString() == "email");
        Assert.True(a.Consent("sms").GetProperty("granted").GetBoolean());
        Assert.Equal(HttpStatusCode.SeeOther, explicitNo.StatusCode);
        var raw = (await Server.AllRawEventsAsync(Landing)).Last();
        var b = await SingleEventAsync(Server, raw.GetProperty("id").GetString()!);
        Assert.Equal("b@example.com", b.Str("subject.email"));
        Assert.False(b.Consent("email").GetProperty("granted").GetBoolean());
        Assert.False(b.Consent("whatsapp").GetProperty("granted").GetBoolean());
    }

    [Fact]
    public async Task FilledHoneypot_IsAnsweredLikeASuccess_AndNothingIsStored()
    {
        using var form = await PostFormAsync(Browser, FormBody(("email", "bot@spam.example"), ("website", "http://spam.example")));
        using var json = await PostJsonAsync(Server.Client, "/v1/forms/landing", """{"email":"bot@spam.example","website":"x"}""");

        Assert.Equal(HttpStatusCode.SeeOther, form.StatusCode);
        Assert.Equal(Thanks, form.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.StartsWith("ce_", (await JsonAsync(json)).GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Empty(await Server.AllRawEventsAsync(Landing));
    }

    [Theory]
    [InlineData("name=Ada")]
    [InlineData("email=not-an-address&consent_email=on")]
    [InlineData("email=&phone=")]
    public async Task MissingOrInvalidEmail_Is422ProblemNamingEmail_AndNothingIsStored(string body)
    {
        using var response = await PostFormAsync(Browser, body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await JsonAsync(response);
        Assert.Equal(["email"], ProblemFields(problem));
        Assert.StartsWith("email: ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await Server.AllRawEventsAsync(Landing));
    }

    [Fact]
    public async Task JsonWithoutEmail_Is422_ButAPhoneAloneIsAnIdentifier()
    {
        using var missing = await PostJsonAsync(Server.Client, "/v1/forms/landing", """{"name":"No Address"}""");
        using var phoneOnly = await PostJsonAsync(Server.Client, "/v1/forms/landing", """{"phone":"+12125550100","consent_sms":"on"}""");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.StatusCode);
        Assert.Equal(["email"], ProblemFields(await JsonAsync(missing)));
        Assert.Equal(HttpStatusCode.OK, phoneOnly.StatusCode);
        var e = await SingleEventAsync(Server, (await JsonAsync(phoneOnly)).GetProperty("raw_id").GetString()!);
        Assert.Null(e.Str("subject.email"));
        Assert.Equal("+12125550100", e.Str("subject.phone"));
        Assert.True(e.Consent("sms").GetProperty("granted").GetBoolean());
    }

    [Fact]
    public async Task AllowedOrigin_GetsCorsHeaders_OnPreflightAndPost()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/forms/landing");
        preflight.Headers.Add("Origin", AllowedOrigin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
        using var pre = await Server.Client.SendAsync(preflight);
        using var post = await PostJsonAsync(Server.Client, "/v1/forms/landing", """{"email":"c@example.com"}""", origin: AllowedOrigin);

        Assert.Equal(HttpStatusCode.NoContent, pre.StatusCode);
        Assert.Equal(AllowedOrigin, Header(pre, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", Header(pre, "Access-Control-Allow-Methods"), StringComparison.Ordinal);
        Assert.Contains("content-type", Header(pre, "Access-Control-Allow-Headers"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(AllowedOrigin, Header(post, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task OtherOrigin_GetsNoCorsHeaders()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/forms/landing");
        preflight.Headers.Add("Origin", "https://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var pre = await Server.Client.SendAsync(preflight);
        using var post = await PostJsonAsync(Server.Client, "/v1/forms/landing", """{"email":"d@example.com"}""", origin: "https://evil.example");

        Assert.Null(Header(pre, "Access-Control-Allow-Origin"));
        Assert.Null(Header(pre, "Access-Control-Allow-Methods"));
        Assert.Null(Header(post, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task SameSubmissionTwice_IsOneRawEventAndOneOptin_WithTheSameId()
    {
        const string body = """{"email":"e@example.com","submission_id":"js_double_click"}""";
        using var first = await PostJsonAsync(Server.Client, "/v1/forms/landing", body);
        using var second = await PostJsonAsync(Server.Client, "/v1/forms/landing", body);

        var a = await JsonAsync(first);
        var b = await JsonAsync(second);
        Assert.Equal(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.True(b.GetProperty("duplicate").GetBoolean());
        Assert.Single(await Server.AllRawEventsAsync(Landing));
    }

    [Fact]
    public async Task UnknownOrNonFormSource_Is404_AndHooksEndpointRefusesAFormSource()
    {
        using var unknown = await PostFormAsync(Browser, "email=a%40example.com", source: "nope");
        using var notForm = await PostFormAsync(Browser, "email=a%40example.com", source: "app");
        using var hook = await Server.PostAsync(Landing, "email=a%40example.com"u8.ToArray(), "application/x-www-form-urlencoded");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, notForm.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, hook.StatusCode);
        Assert.Empty(await Server.AllRawEventsAsync(Landing));
    }

    [Fact]
    public async Task Snippet_IsServedAsJavaScript_WithCachingHeaders_AndRevalidates()
    {
        using var response = await Server.Client.GetAsync("/v1/snippet.js");
        var etag = response.Headers.ETag;
        using var again = new HttpRequestMessage(HttpMethod.Get, "/v1/snippet.js");
        again.Headers.IfNoneMatch.Add(etag!);
        using var revalidated = await Server.Client.SendAsync(again);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("max-age=", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.True(response.Headers.CacheControl?.Public);
        var script = await response.Content.ReadAsStringAsync();
        Assert.Contains("data-junction-checkout", script, StringComparison.Ordinal);
        Assert.Contains("/*JUNCTION_DEFAULTS*/{}", script, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        using var head = new HttpRequestMessage(HttpMethod.Head, "/v1/snippet.js");
        using var headResponse = await Server.Client.SendAsync(head);
        Assert.Equal(HttpStatusCode.OK, headResponse.StatusCode);
        Assert.Equal("application/javascript", headResponse.Content.Headers.ContentType?.MediaType);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var content) ? string.Join(",", content) : null;
}

/// <summary>A form source's require_consent reaches the snippet served with ?source=.</summary>
public sealed class SnippetConsentTests
{
    [Fact]
    public async Task SnippetForASourceRequiringConsent_DefaultsToRequireConsent()
    {
        var config = ServerConfig();
        var landing = config.Sources[Landing];
        config = config with
        {
            Sources = new Dictionary<string, Junction.Config.SourceConfig>(config.Sources, StringComparer.Ordinal)
            {
                [Landing] = landing with { Options = new Dictionary<string, string>(landing.Options) { ["require_consent"] = "true" } },
            },
        };
        await using var server = await JunctionServer.StartAsync(config);

        var plain = await server.Client.GetStringAsync("/v1/snippet.js");
        var forSource = await server.Client.GetStringAsync("/v1/snippet.js?source=landing");

        Assert.Contains("/*JUNCTION_DEFAULTS*/{}", plain, StringComparison.Ordinal);
        Assert.Contains("{\"requireConsent\":true}", forSource, StringComparison.Ordinal);
    }
}
