using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Providers;
using Junction.Integrations.PayPal;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Providers.PayPal;

/// <summary>
/// PayPal's certificate scheme against a real RSA key and certificate chain made in the test, the
/// certificate served over HTTP by a loopback fake of PayPal's cert URL.
/// </summary>
public sealed class PayPalSignatureTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 20, 18, 45, 12, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes(PayPalFixtures.CaptureCompleted());

    private readonly PayPalProvider _provider = new();
    // RSA keys are slow to make: one hierarchy for the class.
    private static readonly PayPalSigning Shared = new(Now);
    private readonly PayPalSigning _signing = Shared;
    private readonly HttpClient _http = new();
    private readonly ConcurrentDictionary<string, object> _cache = new(StringComparer.Ordinal);
    private FakeApi? _paypal;

    private string CertUrl => new Uri(_paypal!.BaseUrl, "/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb").ToString();

    public async ValueTask InitializeAsync()
    {
        _paypal = await FakeApi.StartAsync(app =>
        {
            app.MapGet("/v1/notifications/certs/{name}", () => Results.Text(_signing.ChainPem, "application/x-pem-file"));
            app.MapGet("/redirect/{name}", (string name) => Results.Redirect($"/v1/notifications/certs/{name}"));
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_paypal is not null) await _paypal.DisposeAsync();
        _http.Dispose();
    }

    private SourceConfig Source(string? certHosts = "127.0.0.1", string? ca = "root", string webhookId = PayPalFixtures.WebhookId, int tolerance = 300)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal) { ["webhook_id"] = webhookId };
        if (certHosts is not null) options["cert_hosts"] = certHosts;
        if (ca is not null) options["ca_certificate"] = ca == "root" ? _signing.RootPem : ca;
        return new SourceConfig { Id = "paypal", Provider = "paypal", Secrets = [], Options = options, ToleranceSeconds = tolerance };
    }

    private static WebhookRequest Request(byte[] body, IReadOnlyDictionary<string, string> headers) =>
        new(body, name => headers.TryGetValue(name, out var v) ? v : null);

    private async Task<SignatureCheck> VerifyAsync(byte[] body, IReadOnlyDictionary<string, string> headers, SourceConfig? source = null, DateTimeOffset? now = null) =>
        await _provider.VerifyAsync(Request(body, headers), source ?? Source(), new VerifyContext(now ?? Now, _http, _cache), CancellationToken.None);

    private Dictionary<string, string> Signed(byte[]? body = null, DateTimeOffset? sentAt = null, string? certUrl = null) =>
        _signing.Headers(body ?? Body, certUrl ?? CertUrl, sentAt ?? Now.AddSeconds(-5));

    private int CertFetches => _paypal!.Count("GET /v1/notifications/certs/");

    [Fact]
    public void Crc32_MatchesTheStandardCheckValue()
    {
        var check = "123456789"u8.ToArray();
        Assert.Equal(3421780262u, Crc32.Compute(check));
        Assert.Equal(3421780262u, PayPalSigning.Crc32(check));
        Assert.Equal(PayPalSigning.Crc32(Body), Crc32.Compute(Body));
        Assert.Equal(0u, Crc32.Compute([]));
    }

    [Fact]
    public void Message_IsIdTimeWebhookIdAndUnsignedCrc_JoinedByPipes()
    {
        // zlib.crc32 of this body is 3730299468: above int.MaxValue, so a signed rendering would be negative.
        var body = "{\"id\":\"WH-100\"}"u8.ToArray();

        Assert.Equal($"t-1|2026-11-20T18:45:07Z|{PayPalFixtures.WebhookId}|3730299468",
            PayPalProvider.Message("t-1", "2026-11-20T18:45:07Z", PayPalFixtures.WebhookId, body));
    }

    [Fact]
    public async Task ValidSignature_FromAChainedPayPalCertificate_IsAccepted_AndTheCertificateIsFetchedOnce()
    {
        var first = await VerifyAsync(Body, Signed());
        var other = Encoding.UTF8.GetBytes(PayPalFixtures.CaptureCompleted(eventId: "WH-OTHER"));
        var second = await VerifyAsync(other, Signed(other));

        Assert.True(first.IsValid, first.Detail);
        Assert.True(second.IsValid, second.Detail);
        Assert.Equal(1, CertFetches);
    }

    [Fact]
    public async Task TamperedBody_IsRefused()
    {
        var headers = Signed();
        var tampered = Encoding.UTF8.GetBytes(PayPalFixtures.CaptureCompleted().Replace("100.00", "1.00", StringComparison.Ordinal));

        var check = await VerifyAsync(tampered, headers);

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("PAYPAL-TRANSMISSION-SIG", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignatureForAnotherWebhookId_IsRefused()
    {
        var check = await VerifyAsync(Body, Signed(), Source(webhookId: "4JH86294D6297924G"));

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
    }

    [Fact]
    public async Task TransmissionTimeOutsideTolerance_IsStale_EvenWithAValidSignature()
    {
        var check = await VerifyAsync(Body, Signed(sentAt: Now.AddMinutes(-10)));

        Assert.Equal(SignatureFailure.StaleTimestamp, check.Failure);
        Assert.Contains("PAYPAL-TRANSMISSION-TIME", check.Detail, StringComparison.Ordinal);
        Assert.True((await VerifyAsync(Body, Signed(sentAt: Now.AddMinutes(-10)), Source(tolerance: 900))).IsValid);
    }

    [Fact]
    public async Task CertUrlOnAHostNotAllowed_IsRefused_WithoutFetchingIt()
    {
        var evil = CertUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);

        var check = await VerifyAsync(Body, Signed(certUrl: evil));

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("localhost", check.Detail, StringComparison.Ordinal);
        Assert.Equal(0, CertFetches);
    }

    [Theory]
    [InlineData("https://api.paypal.com/v1/notifications/certs/CERT-1", null)]
    [InlineData("https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-1", null)]
    [InlineData("http://api.paypal.com/v1/notifications/certs/CERT-1", "not an https URL")]
    [InlineData("https://api.paypal.com.evil.example/certs/CERT-1", "not one PayPal serves")]
    [InlineData("https://paypal.com@evil.example/certs/CERT-1", "not an https URL")]
    [InlineData("https://evilpaypal.com/certs/CERT-1", "not one PayPal serves")]
    [InlineData("https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1", null)]
    [InlineData("https://api-m.paypal.com/v1/notifications/certs/CERT-1", null)]
    [InlineData("https://www.paypal.com/certs/CERT-1", "not one PayPal serves")]          // PayPal's, but not a certificate host
    [InlineData("https://uploads.paypal.com/certs/CERT-1", "not one PayPal serves")]
    [InlineData("file:///etc/passwd", "not an https URL")]
    public void DefaultCertHosts_ArePayPalsOwn_OverHttps(string url, string? problem)
    {
        var source = new SourceConfig { Id = "paypal", Provider = "paypal", Secrets = [] };

        var found = PayPalProvider.CertificateUrlProblem(url, source);

        if (problem is null) Assert.Null(found);
        else Assert.Contains(problem, found, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertificateNotChainingToTheTrustedRoot_IsRefused()
    {
        using var stranger = new PayPalSigning(Now);

        var check = await VerifyAsync(Body, Signed(), Source(ca: stranger.RootPem));

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("does not chain to a trusted root", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestCertificate_IsRefusedAgainstTheSystemRoots()
    {
        var check = await VerifyAsync(Body, Signed(), Source(ca: null));

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("does not chain to a trusted root", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertificateNotIssuedToPayPalsSigningName_IsRefused()
    {
        using var impostor = new PayPalSigning(Now, leafName: "CN=messageverificationcerts.paypal.com.evil.example");
        await using var fake = await FakeApi.StartAsync(app => app.MapGet("/cert.pem", () => Results.Text(impostor.ChainPem)));
        var url = new Uri(fake.BaseUrl, "/cert.pem").ToString();

        var check = await VerifyAsync(Body, impostor.Headers(Body, url, Now), Source(ca: impostor.RootPem));

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("messageverificationcerts.paypal.com", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredCertificate_IsRefused()
    {
        var check = await VerifyAsync(Body, Signed(sentAt: Now.AddYears(2)), now: Now.AddYears(2));

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("valid only from", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertUrlAnswering404_IsRefused_AndNotCached()
    {
        var url = new Uri(_paypal!.BaseUrl, "/missing.pem").ToString();

        var check = await VerifyAsync(Body, Signed(certUrl: url));

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        // What the fetch met is not echoed to the sender, who chose the URL.
        Assert.Equal(PayPalProvider.CertificateNotVerified, check.Detail);
        Assert.DoesNotContain("404", check.Detail, StringComparison.Ordinal);
        Assert.Empty(_cache);
    }

    [Fact]
    public async Task CertUrlThatRedirects_IsRefused_EvenWithAClientThatFollowsRedirects()
    {
        var url = new Uri(_paypal!.BaseUrl, "/redirect/CERT-1").ToString();

        var check = await VerifyAsync(Body, Signed(certUrl: url));

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Equal(PayPalProvider.CertificateNotVerified, check.Detail);
        Assert.Empty(_cache);
    }

    [Fact]
    public async Task CachedCertificate_IsFetchedAgainAfter24Hours()
    {
        Assert.True((await VerifyAsync(Body, Signed(), now: Now)).IsValid);
        Assert.True((await VerifyAsync(Body, Signed(sentAt: Now.AddHours(23)), now: Now.AddHours(23))).IsValid);
        Assert.Equal(1, CertFetches);

        Assert.True((await VerifyAsync(Body, Signed(sentAt: Now.AddHours(25)), now: Now.AddHours(25))).IsValid);
        Assert.Equal(2, CertFetches);
    }

    [Fact]
    public async Task CertificateCache_HoldsAtMost32Urls()
    {
        for (var i = 0; i < 40; i++)
        {
            var url = new Uri(_paypal!.BaseUrl, $"/v1/notifications/certs/CERT-{i}").ToString();
            Assert.True((await VerifyAsync(Body, Signed(certUrl: url))).IsValid);
        }

        Assert.Equal(40, CertFetches);
        Assert.Equal(32, _cache.Keys.Count(k => k.StartsWith("paypal-cert:", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("PAYPAL-TRANSMISSION-ID")]
    [InlineData("PAYPAL-TRANSMISSION-TIME")]
    [InlineData("PAYPAL-TRANSMISSION-SIG")]
    [InlineData("PAYPAL-CERT-URL")]
    [InlineData("PAYPAL-AUTH-ALGO")]
    public async Task MissingHeader_IsNamed(string header)
    {
        var headers = Signed();
        headers.Remove(header);

        var check = await VerifyAsync(Body, headers);

        Assert.Equal(SignatureFailure.MissingSignature, check.Failure);
        Assert.Contains(header, check.Detail, StringComparison.Ordinal);
        Assert.Equal(0, CertFetches);
    }

    [Fact]
    public async Task UnknownAlgorithmOrUnreadableTime_IsMalformed()
    {
        var algo = Signed();
        algo["PAYPAL-AUTH-ALGO"] = "SHA1withRSA";
        var time = Signed();
        time["PAYPAL-TRANSMISSION-TIME"] = "yesterday";

        Assert.Equal(SignatureFailure.MalformedSignature, (await VerifyAsync(Body, algo)).Failure);
        Assert.Equal(SignatureFailure.MalformedSignature, (await VerifyAsync(Body, time)).Failure);
    }

    [Fact]
    public void SynchronousVerify_NeverAccepts()
    {
        var check = _provider.Verify(Request(Body, Signed()), [], TimeSpan.FromMinutes(5), Now);

        Assert.False(check.IsValid);
    }

    [Fact]
    public async Task ApiMode_AsksPayPalsVerifyEndpoint_WithTheRawEvent_AndReusesTheToken()
    {
        var verifyBodies = new ConcurrentQueue<JsonElement>();
        await using var api = await FakeApi.StartAsync(app =>
        {
            app.MapPost("/v1/oauth2/token", async (HttpRequest r) =>
            {
                var form = await r.ReadFormAsync();
                var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("client-abc:secret-xyz"));
                return r.Headers.Authorization.ToString() == "Basic " + basic && form["grant_type"] == "client_credentials"
                    ? Results.Json(new { scope = "https://uri.paypal.com/services/applications/webhooks", access_token = "A21AAFtoken", token_type = "Bearer", app_id = "APP-80W284485P519543T", expires_in = 32400, nonce = "2026-11-20T18:45:12Z" })
                    : Results.Json(new { error = "invalid_client", error_description = "Client Authentication failed" }, statusCode: 401);
            });
            app.MapPost("/v1/notifications/verify-webhook-signature", async (HttpRequest r) =>
            {
                if (r.Headers.Authorization.ToString() != "Bearer A21AAFtoken") return Results.Json(new { name = "AUTHENTICATION_FAILURE" }, statusCode: 401);
                var body = await JsonSerializer.DeserializeAsync<JsonElement>(r.Body);
                verifyBodies.Enqueue(body);
                var ok = body.GetProperty("webhook_id").GetString() == PayPalFixtures.WebhookId
                    && body.GetProperty("webhook_event").GetProperty("id").GetString() == "WH-2CL46544TB770421K-5VB92446WP7345818";
                return Results.Json(new { verification_status = ok ? "SUCCESS" : "FAILURE" });
            });
        });
        var source = Source() with
        {
            Options = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["webhook_id"] = PayPalFixtures.WebhookId, ["verification"] = "api", ["api_base_url"] = api.BaseUrl.ToString(),
                ["client_id"] = "client-abc", ["client_secret"] = "secret-xyz",
            },
        };
        var headers = Signed(certUrl: "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb");

        var accepted = await VerifyAsync(Body, headers, source);
        var refused = await VerifyAsync(Encoding.UTF8.GetBytes(PayPalFixtures.CaptureCompleted(eventId: "WH-FORGED")), headers, source);

        Assert.True(accepted.IsValid, accepted.Detail);
        Assert.Equal(SignatureFailure.BadSignature, refused.Failure);
        Assert.Contains("FAILURE", refused.Detail, StringComparison.Ordinal);
        Assert.Equal(1, api.Count("POST /v1/oauth2/token"));
        var sent = verifyBodies.First();
        Assert.Equal("SHA256withRSA", sent.GetProperty("auth_algo").GetString());
        Assert.Equal(headers["PAYPAL-TRANSMISSION-SIG"], sent.GetProperty("transmission_sig").GetString());
        Assert.Equal(headers["PAYPAL-TRANSMISSION-TIME"], sent.GetProperty("transmission_time").GetString());
        Assert.Equal(headers["PAYPAL-CERT-URL"], sent.GetProperty("cert_url").GetString());
        Assert.Equal("100.00", sent.GetProperty("webhook_event").GetProperty("resource").GetProperty("amount").GetProperty("value").GetString());
        Assert.Equal(0, CertFetches);
    }

    [Fact]
    public async Task ApiMode_WhenPayPalIsUnreachable_FailsClosed()
    {
        var source = Source() with
        {
            Options = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["webhook_id"] = PayPalFixtures.WebhookId, ["verification"] = "api", ["api_base_url"] = "http://127.0.0.1:9/",
                ["client_id"] = "client-abc", ["client_secret"] = "secret-xyz",
            },
        };

        var check = await VerifyAsync(Body, Signed(), source);

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("could not be asked", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownVerificationMode_IsRefusedWithTheKeyNamed()
    {
        var source = Source() with
        {
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["webhook_id"] = PayPalFixtures.WebhookId, ["verification"] = "none" },
        };

        var check = await VerifyAsync(Body, Signed(), source);

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("sources.paypal.verification", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void DedupKey_IsTheEventId_AndPayPalHeadersAreKept()
    {
        Assert.Equal("WH-2CL46544TB770421K-5VB92446WP7345818", _provider.DedupKey(Request(Body, Signed())));
        Assert.Contains("paypal-cert-url", _provider.KeptHeaders);
        Assert.Contains("paypal-transmission-sig", _provider.KeptHeaders);
        Assert.All(_provider.KeptHeaders, h => Assert.Equal(h.ToLowerInvariant(), h));
        Assert.False(_provider.RequiresSecrets);
        Assert.Contains(_provider.Options, o => o.Key == "webhook_id" && o.Required);
    }
}
