using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Normalize;
using Junction.Providers;

namespace Junction.Integrations.PayPal;

/// <summary>
/// PayPal REST webhooks (developer.paypal.com/api/rest/webhooks/rest). There is no shared secret:
/// PayPal signs <c>"{transmission id}|{transmission time}|{webhook id}|{crc32(body)}"</c> with
/// SHA256withRSA and names the certificate in <c>PAYPAL-CERT-URL</c>. <c>verification: certificate</c>
/// (default) checks that locally: the URL must be https on a PayPal host, the certificate must be
/// current, chain to a trusted root and be issued to <c>messageverificationcerts[.sandbox].paypal.com</c>
/// (the subject rule of PayPal's Java SDK, SSLUtil.validateCertificateChain). <c>verification: api</c>
/// asks PayPal's <c>POST /v1/notifications/verify-webhook-signature</c> instead. Both check the
/// transmission time against <c>tolerance_seconds</c> (PayPal states none; each retry is a new
/// transmission with a new time). Retries keep the event <c>id</c> (WH-…), the dedup key.
/// </summary>
public sealed class PayPalProvider : IWebhookProvider, IAsyncWebhookVerifier
{
    public const string TransmissionIdHeader = "PAYPAL-TRANSMISSION-ID";
    public const string TransmissionTimeHeader = "PAYPAL-TRANSMISSION-TIME";
    public const string TransmissionSigHeader = "PAYPAL-TRANSMISSION-SIG";
    public const string CertUrlHeader = "PAYPAL-CERT-URL";
    public const string AuthAlgoHeader = "PAYPAL-AUTH-ALGO";

    private const int MaxCertificateBytes = 64 * 1024;
    private const string CachePrefix = "paypal-cert:";
    private const int MaxCachedCertificates = 32;
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromHours(24);
    internal const string CertificateNotVerified = "the certificate at " + CertUrlHeader + " could not be verified";

    /// <summary>The hosts PayPal serves webhook signing certificates from (live and sandbox, api and api-m).</summary>
    internal static readonly string[] DefaultCertHosts = ["api.paypal.com", "api-m.paypal.com", "api.sandbox.paypal.com", "api-m.sandbox.paypal.com"];

    private readonly PayPalApi _api = new();

    public string Name => "paypal";

    public string Kind => State.ProviderKinds.Payments;

    public Config.SourceConfig? Demo => new()
    {
        Id = "demo-paypal",
        Provider = "paypal",
        Secrets = [],
        Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["webhook_id"] = "WEBHOOK_ID", ["api_base_url"] = "https://api-m.sandbox.paypal.com" },
    };

    public bool RequiresSecrets => false;

    public IReadOnlyList<ProviderOption> Options { get; } =
    [
        new("webhook_id", true, "the id of the webhook in the PayPal developer dashboard (PayPal signs it into every message)"),
        new("verification", false, "certificate (default: check PayPal's signature locally) or api (ask PayPal's verify-webhook-signature API; needs client_id and client_secret)"),
        new("api_base_url", false, $"a URL; default https://api-m.paypal.com, sandbox {PayPalApi.Sandbox}"),
        new("client_id", false, "a REST app client id, for enrichment (buyer email, items) and verification: api"),
        new("client_secret", false, "the REST app's secret, with client_id"),
        new("cert_hosts", false, "comma-separated hosts PAYPAL-CERT-URL may name; default api.paypal.com, api-m.paypal.com, api.sandbox.paypal.com, api-m.sandbox.paypal.com"),
        new("ca_certificate", false, "a PEM certificate (the text or a file path) trusted instead of the system roots, for tests and private sandboxes"),
    ];

    public IPayloadMapper Mapper { get; } = new PayPalMapper();

    public IProviderApi Api => _api;

    public IReadOnlyList<string> KeptHeaders { get; } =
    [
        "paypal-transmission-id", "paypal-transmission-time", "paypal-transmission-sig", "paypal-cert-url",
        "paypal-auth-algo", "paypal-auth-version", "correlation-id", "content-type", "user-agent",
    ];

    public string? ValidateSecret(string secret) =>
        "PayPal signs with a certificate, not a shared secret: remove secrets and set webhook_id";

    /// <summary>Intake calls <see cref="VerifyAsync"/>; a synchronous check cannot fetch the certificate, so it refuses.</summary>
    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        new(SignatureFailure.BadSignature, "PayPal verification needs the network; only the asynchronous check can accept a message");

    public string? DedupKey(WebhookRequest request) => JsonProbe.TopLevelString(request.Body.Span, "id"u8);

    public async ValueTask<SignatureCheck> VerifyAsync(WebhookRequest request, SourceConfig source, VerifyContext context, CancellationToken cancellationToken)
    {
        var webhookId = source.Option("webhook_id");
        if (webhookId is null) return Refused($"sources.{source.Id}.webhook_id is not set; nothing can be verified without it");

        string? missing = null;
        string Need(string header)
        {
            var value = request.Header(header);
            if (string.IsNullOrWhiteSpace(value)) missing ??= header;
            return value?.Trim() ?? "";
        }
        var transmissionId = Need(TransmissionIdHeader);
        var transmissionTime = Need(TransmissionTimeHeader);
        var signature = Need(TransmissionSigHeader);
        var certUrl = Need(CertUrlHeader);
        var algorithm = Need(AuthAlgoHeader);
        if (missing is not null) return SignatureCheck.Missing(missing);

        if (!algorithm.Equals("SHA256withRSA", StringComparison.OrdinalIgnoreCase))
        {
            return SignatureCheck.Malformed(AuthAlgoHeader, "SHA256withRSA");
        }
        if (!DateTimeOffset.TryParse(transmissionTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var sentAt))
        {
            return SignatureCheck.Malformed(TransmissionTimeHeader, "an ISO-8601 time such as 2026-11-20T18:45:12Z");
        }

        var mode = source.Option("verification") ?? "certificate";
        SignatureCheck check;
        if (mode == "certificate")
        {
            check = await VerifyWithCertificateAsync(request, source, context, webhookId, transmissionId, transmissionTime, signature, certUrl, cancellationToken);
        }
        else if (mode == "api")
        {
            check = await VerifyWithApiAsync(request, source, context, webhookId, transmissionId, transmissionTime, signature, certUrl, algorithm, cancellationToken);
        }
        else
        {
            return Refused($"sources.{source.Id}.verification is '{mode}'; expected certificate or api");
        }
        if (!check.IsValid) return check;

        // Checked after the signature, as Stripe's SDK does, so a forged header cannot probe the clock.
        var tolerance = TimeSpan.FromSeconds(source.ToleranceSeconds);
        return (context.Now - sentAt).Duration() <= tolerance
            ? SignatureCheck.Valid
            : SignatureCheck.Stale(TransmissionTimeHeader, sentAt.ToUnixTimeSeconds(), context.Now, tolerance);
    }

    /// <summary>The signed message: PayPal-Java-SDK Event.java, <c>"%s|%s|%s|%s"</c> with the CRC-32 as an unsigned decimal.</summary>
    internal static string Message(string transmissionId, string transmissionTime, string webhookId, ReadOnlySpan<byte> body) =>
        string.Create(CultureInfo.InvariantCulture, $"{transmissionId}|{transmissionTime}|{webhookId}|{Crc32.Compute(body)}");

    private static async Task<SignatureCheck> VerifyWithCertificateAsync(WebhookRequest request, SourceConfig source, VerifyContext context,
        string webhookId, string transmissionId, string transmissionTime, string signature, string certUrl, CancellationToken cancellationToken)
    {
        var signatureBytes = new byte[((signature.Length * 3) + 3) / 4];
        if (!Convert.TryFromBase64String(signature, signatureBytes, out var signatureLength) || signatureLength == 0)
        {
            return SignatureCheck.Malformed(TransmissionSigHeader, "a base64 RSA signature");
        }
        if (CertificateUrlProblem(certUrl, source) is { } urlProblem) return Refused(urlProblem);

        X509Certificate2Collection certificates;
        try
        {
            certificates = await FetchCertificatesAsync(new Uri(certUrl), context, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or CryptographicException or InvalidDataException
            || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Fail closed: PayPal retries a refused delivery (up to 25 times over 3 days). What the fetch
            // met (status, host errors) is not echoed: the URL came from the request, so that would make
            // intake an oracle for probing hosts.
            return Refused(CertificateNotVerified);
        }

        var leaf = certificates.FirstOrDefault(IsPayPalSigningCertificate);
        if (leaf is null)
        {
            return Refused($"the certificate at {CertUrlHeader} is not issued to messageverificationcerts.paypal.com or its sandbox twin");
        }
        if (context.Now < leaf.NotBefore.ToUniversalTime() || context.Now > leaf.NotAfter.ToUniversalTime())
        {
            return Refused($"the certificate at {CertUrlHeader} is valid only from {leaf.NotBefore.ToUniversalTime():O} to {leaf.NotAfter.ToUniversalTime():O}");
        }
        X509Certificate2? anchor;
        try
        {
            anchor = TrustAnchor(source, context);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            return Refused($"sources.{source.Id}.ca_certificate could not be read: {ex.Message}");
        }
        if (ChainProblem(leaf, certificates, anchor, context.Now) is { } chainProblem) return Refused(chainProblem);

        using var rsa = leaf.GetRSAPublicKey();
        if (rsa is null) return Refused($"the certificate at {CertUrlHeader} carries no RSA key");
        var message = Encoding.UTF8.GetBytes(Message(transmissionId, transmissionTime, webhookId, request.Body.Span));
        return rsa.VerifyData(message, signatureBytes.AsSpan(0, signatureLength), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            ? SignatureCheck.Valid
            : new SignatureCheck(SignatureFailure.BadSignature,
                $"{TransmissionSigHeader} does not match the body, transmission id and time, and sources.{source.Id}.webhook_id");
    }

    /// <summary>Null when PayPal's header may be fetched; the URL names the key the signature is checked against, so it must be PayPal's.</summary>
    internal static string? CertificateUrlProblem(string certUrl, SourceConfig source)
    {
        if (!Uri.TryCreate(certUrl, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http") || url.UserInfo.Length > 0)
        {
            return $"{CertUrlHeader} is not an https URL";
        }
        var host = url.Host.ToLowerInvariant();
        // cert_hosts comes from config (tests, private sandboxes), never from the request.
        var configured = source.Option("cert_hosts")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var allowed = (configured is { Length: > 0 } ? configured : DefaultCertHosts).Any(h => h.Equals(host, StringComparison.OrdinalIgnoreCase));
        if (!allowed) return $"{CertUrlHeader} names host {host}, which is not one PayPal serves certificates from (sources.{source.Id}.cert_hosts)";
        // Plain http only for a configured loopback host (tests); PayPal's own URLs are https.
        if (url.Scheme == "http" && !(url.IsLoopback && configured is { Length: > 0 }))
        {
            return $"{CertUrlHeader} is not an https URL";
        }
        return null;
    }

    private sealed record CachedCertificates(X509Certificate2Collection Certificates, DateTimeOffset Expires);

    private static async Task<X509Certificate2Collection> FetchCertificatesAsync(Uri url, VerifyContext context, CancellationToken cancellationToken)
    {
        var key = CachePrefix + url.AbsoluteUri;
        if (context.Cache.TryGetValue(key, out var cached) && cached is CachedCertificates known)
        {
            if (known.Expires > context.Now) return known.Certificates;
            context.Cache.TryRemove(key, out _);
        }

        using var response = await context.Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"GET {url} answered {(int)response.StatusCode} {response.StatusCode}");
        // Intake's client follows no redirects; this holds even for a client that does: the allowlisted
        // host must serve the certificate itself, not point somewhere else.
        if (response.RequestMessage?.RequestUri is { } served && served != url) throw new HttpRequestException($"GET {url} was redirected");
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new ArrayBufferWriter<byte>(8 * 1024);
        int read;
        while ((read = await stream.ReadAsync(buffer.GetMemory(4096), cancellationToken)) > 0)
        {
            buffer.Advance(read);
            if (buffer.WrittenCount > MaxCertificateBytes) throw new InvalidDataException($"GET {url} answered more than {MaxCertificateBytes} bytes");
        }
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(Encoding.ASCII.GetString(buffer.WrittenSpan));
        if (certificates.Count == 0) throw new InvalidDataException($"GET {url} answered no PEM certificate");
        var notAfter = certificates.Min(c => new DateTimeOffset(c.NotAfter.ToUniversalTime(), TimeSpan.Zero));
        var expires = context.Now + CacheLifetime < notAfter ? context.Now + CacheLifetime : notAfter;
        // Bounded: each distinct URL PayPal names is a new entry, and a flood of signed-looking requests
        // must not grow the cache. Past the cap, the entry closest to expiry goes.
        var entries = context.Cache.Where(e => e.Key.StartsWith(CachePrefix, StringComparison.Ordinal)).ToList();
        foreach (var stale in entries.Where(e => e.Value is not CachedCertificates { } c || c.Expires <= context.Now)) context.Cache.TryRemove(stale.Key, out _);
        var live = entries.Where(e => e.Value is CachedCertificates { } c && c.Expires > context.Now)
            .OrderBy(e => ((CachedCertificates)e.Value).Expires).ToList();
        for (var i = 0; i <= live.Count - MaxCachedCertificates; i++) context.Cache.TryRemove(live[i].Key, out _);
        context.Cache[key] = new CachedCertificates(certificates, expires);
        return certificates;
    }

    private static bool IsPayPalSigningCertificate(X509Certificate2 certificate)
    {
        var cn = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return cn.StartsWith("messageverificationcerts", StringComparison.OrdinalIgnoreCase)
            && cn.EndsWith(".paypal.com", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The configured <c>ca_certificate</c> (PEM text or file), or null for the system roots.</summary>
    private static X509Certificate2? TrustAnchor(SourceConfig source, VerifyContext context)
    {
        var configured = source.Option("ca_certificate");
        if (configured is null) return null;
        var key = "paypal-ca:" + configured;
        if (context.Cache.TryGetValue(key, out var cached) && cached is X509Certificate2 known) return known;
        var pem = configured.Contains("-----BEGIN", StringComparison.Ordinal) ? configured : File.ReadAllText(configured);
        var anchor = X509Certificate2.CreateFromPem(pem);
        context.Cache[key] = anchor;
        return anchor;
    }

    private static string? ChainProblem(X509Certificate2 leaf, X509Certificate2Collection served, X509Certificate2? anchor, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        // Revocation is not checked online at intake (neither does PayPal's SDK): it would put a CRL/OCSP
        // round trip and its outages in front of every acknowledgement.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        foreach (var certificate in served)
        {
            if (!ReferenceEquals(certificate, leaf)) chain.ChainPolicy.ExtraStore.Add(certificate);
        }
        if (anchor is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(anchor);
        }
        if (chain.Build(leaf)) return null;
        var statuses = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal));
        return $"the certificate at {CertUrlHeader} does not chain to a trusted root ({(statuses.Length > 0 ? statuses : "no chain")})";
    }

    private async Task<SignatureCheck> VerifyWithApiAsync(WebhookRequest request, SourceConfig source, VerifyContext context,
        string webhookId, string transmissionId, string transmissionTime, string signature, string certUrl, string algorithm,
        CancellationToken cancellationToken)
    {
        var payload = new ArrayBufferWriter<byte>(request.Body.Length + 1024);
        try
        {
            using var json = new Utf8JsonWriter(payload);
            json.WriteStartObject();
            json.WriteString("auth_algo", algorithm);
            json.WriteString("cert_url", certUrl);
            json.WriteString("transmission_id", transmissionId);
            json.WriteString("transmission_sig", signature);
            json.WriteString("transmission_time", transmissionTime);
            json.WriteString("webhook_id", webhookId);
            // The event as received, byte for byte: PayPal checks the signature over what it sent.
            json.WritePropertyName("webhook_event");
            json.WriteRawValue(request.Body.Span);
            json.WriteEndObject();
        }
        catch (JsonException)
        {
            return new SignatureCheck(SignatureFailure.MalformedSignature, "body: expected the webhook event as JSON");
        }

        try
        {
            var token = await _api.AccessTokenAsync(source, context.Http, cancellationToken);
            using var call = new HttpRequestMessage(HttpMethod.Post, new Uri(_api.BaseUrl(source), "v1/notifications/verify-webhook-signature"))
            {
                Content = new ByteArrayContent(payload.WrittenMemory.ToArray()) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            };
            call.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await context.Http.SendAsync(call, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return Refused($"PayPal's verify-webhook-signature answered {(int)response.StatusCode} {response.StatusCode}");
            }
            using var doc = JsonDocument.Parse(body);
            var status = doc.RootElement.Str("verification_status");
            return status == "SUCCESS"
                ? SignatureCheck.Valid
                : new SignatureCheck(SignatureFailure.BadSignature, $"PayPal's verify-webhook-signature answered verification_status {status ?? "(none)"}");
        }
        catch (Exception ex) when (ex is ProviderApiException or HttpRequestException or JsonException
            || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return Refused($"PayPal's verify-webhook-signature could not be asked: {ex.Message}");
        }
    }

    private static SignatureCheck Refused(string detail) => new(SignatureFailure.BadSignature, detail);
}
