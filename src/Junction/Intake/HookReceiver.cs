using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Junction.Config;
using Junction.Observability;
using Junction.Providers;
using Junction.Storage;
using Microsoft.Extensions.Primitives;

namespace Junction.Intake;

/// <summary>
/// POST /v1/hooks/{source}: limits, signature, dedup key, then a durable append. The 200 is sent
/// only after the append's transaction is committed; anything refused leaves the log untouched.
/// </summary>
public sealed class HookReceiver(
    JunctionConfig config,
    RawAppend append,
    RejectionLog rejections,
    IntakeMetrics metrics,
    TimeProvider time,
    IHttpClientFactory httpClients,
    ILogger<HookReceiver> logger)
{
    public const string HttpClientName = "junction-intake";

    // Outlives requests: fetched certificates and the like, keyed by the verifier.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, object> _verifyCache = new(StringComparer.Ordinal);

    private const string UnknownSourceLabel = "_unknown";

    public async Task<IResult> ReceiveAsync(string sourceId, HttpContext http)
    {
        // The intake span is the event's first: its trace id (the caller's traceparent, or a fresh
        // one) is what TraceIdOf stores with the raw event for every later stage.
        using var activity = StartIntakeSpan(http.Request, sourceId);
        var result = await ReceiveCoreAsync(sourceId, http);
        if (result is IStatusCodeHttpResult { StatusCode: { } status }) activity?.SetTag("http.response.status_code", status);
        return result;
    }

    private async Task<IResult> ReceiveCoreAsync(string sourceId, HttpContext http)
    {
        var started = time.GetTimestamp();
        var request = http.Request;
        if (!config.Sources.TryGetValue(sourceId, out var source))
        {
            metrics.Rejected(UnknownSourceLabel, "unknown_source");
            return Problems.UnknownSource(sourceId);
        }

        if (!IsAcceptedContentType(request.ContentType))
        {
            Refuse(source, http, "unsupported_media_type", $"content type '{request.ContentType}'");
            return Problems.UnsupportedMediaType(request.ContentType);
        }

        if (request.ContentLength > source.MaxBodyBytes)
        {
            Refuse(source, http, "body_too_large", $"{request.ContentLength} bytes");
            return Problems.TooLarge(request.ContentLength, source.MaxBodyBytes);
        }

        byte[]? body;
        try
        {
            body = await ReadBodyAsync(request, source.MaxBodyBytes, http.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException)
        {
            return Problems.BadRequest("body-unreadable", "The request body could not be read completely.");
        }
        if (body is null)
        {
            Refuse(source, http, "body_too_large", "chunked body over the limit");
            return Problems.TooLarge(null, source.MaxBodyBytes);
        }

        var provider = ProviderRegistry.Get(source.Provider);
        var webhook = new WebhookRequest(body, name => Header(request, name))
        {
            Query = name => request.Query.TryGetValue(name, out var v) && !StringValues.IsNullOrEmpty(v) ? v.ToString() : null,
        };
        if (provider is IWebhookHandshake handshake && handshake.Handshake(webhook, source, time.GetUtcNow()) is { } reply)
        {
            return TypedResults.Text(reply.Body, reply.ContentType, System.Text.Encoding.UTF8, reply.Status);
        }
        var check = provider is IAsyncWebhookVerifier asyncVerifier
            ? await asyncVerifier.VerifyAsync(webhook, source,
                new VerifyContext(time.GetUtcNow(), httpClients.CreateClient(HttpClientName), _verifyCache), http.RequestAborted)
            : provider.Verify(webhook, source.Secrets, TimeSpan.FromSeconds(source.ToleranceSeconds), time.GetUtcNow());
        if (!check.IsValid)
        {
            var reason = Reason(check.Failure);
            Refuse(source, http, reason, check.Detail);
            return Problems.Unauthorized(reason, check.Detail);
        }

        // A verified body without the provider's id is still kept (keyed by its hash), so that
        // normalization can quarantine it with a reason instead of it being lost here.
        var (appended, problem) = await append.AppendAsync(source, request, body, DedupKeyOf(provider, webhook), provider.KeptHeaders, started);
        if (appended is not { } outcome) return problem!;
        return TypedResults.Json(new HookAccepted(outcome.Id, outcome.Duplicate, outcome.TraceId), JunctionJson.Default.HookAccepted);
    }

    /// <summary>
    /// The provider's dedup key, or null (the body's hash) when the body is too malformed to hold one:
    /// a signed body is kept as sent and normalization quarantines it, so a provider's reader
    /// throwing on, say, invalid UTF-8 in a string must not turn into a 500 here.
    /// </summary>
    private static string? DedupKeyOf(IWebhookProvider provider, WebhookRequest webhook)
    {
        try
        {
            return provider.DedupKey(webhook);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or OverflowException or ArgumentException
            or System.Text.DecoderFallbackException)
        {
            return null;
        }
    }

    private void Refuse(SourceConfig source, HttpContext http, string reason, string detail)
    {
        // The detail can quote what the caller sent (a content type, a header): no address goes into the log or the rejection list.
        detail = Pii.Redact(detail)!;
        metrics.Rejected(source.Id, reason);
        Log.Refused(logger, source.Id, reason, detail);
        rejections.Add(new Rejection(source.Id, reason, detail, time.GetUtcNow(), SafeHeadersJson(http.Request)));
    }

    private static string Reason(SignatureFailure failure) => failure switch
    {
        SignatureFailure.MissingSignature => "missing_signature",
        SignatureFailure.MalformedSignature => "malformed_signature",
        SignatureFailure.StaleTimestamp => "stale_timestamp",
        SignatureFailure.HeaderMismatch => "header_mismatch",
        _ => "bad_signature",
    };

    internal static bool IsAcceptedContentType(string? contentType) => MediaTypes.IsJson(contentType) || MediaTypes.IsForm(contentType);

    /// <summary>The body, or null when it is longer than <paramref name="max"/>.</summary>
    internal static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int max, CancellationToken cancellationToken)
    {
        if (request.ContentLength is long length)
        {
            var exact = new byte[length];
            await request.Body.ReadExactlyAsync(exact, cancellationToken);
            return exact;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var collected = new MemoryStream();
            int read;
            while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (collected.Length + read > max) return null;
                collected.Write(buffer, 0, read);
            }
            return collected.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value) ? value.ToString() : null;

    /// <summary>
    /// The span of a request that brings an event in, continuing the caller's traceparent when it
    /// sent one; null when nothing listens (no telemetry configured) or one is already open.
    /// </summary>
    internal static Activity? StartIntakeSpan(HttpRequest request, string sourceId)
    {
        if (!Telemetry.StageTracing.Intake.HasListeners() || Activity.Current?.Source == Telemetry.StageTracing.Intake) return null;
        var activity = Activity.Current is null && Header(request, "traceparent") is { Length: 55 } tp
            && ActivityContext.TryParse(tp, null, isRemote: true, out var parent)
            ? Telemetry.StageTracing.Intake.StartActivity("intake", ActivityKind.Server, parent)
            : Telemetry.StageTracing.Intake.StartActivity("intake", ActivityKind.Server);
        activity?.SetTag("junction.source", sourceId);
        return activity;
    }

    internal static string TraceIdOf(HttpRequest request)
    {
        if (Activity.Current is { } activity) return activity.TraceId.ToHexString();
        if (Header(request, "traceparent") is { Length: 55 } tp
            && ActivityContext.TryParse(tp, null, out var context))
        {
            return context.TraceId.ToHexString();
        }
        return ActivityTraceId.CreateRandom().ToHexString();
    }

    internal static string HeadersJson(HttpRequest request, IReadOnlyList<string> kept)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var name in kept)
            {
                if (Header(request, name) is { } value) json.WriteString(name, value);
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Headers of a refused request, less anything that could carry a credential, bounded in size.</summary>
    internal static string SafeHeadersJson(HttpRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            var count = 0;
            foreach (var (name, value) in request.Headers)
            {
                if (count++ >= 40) break;
                var lower = name.ToLowerInvariant();
                if (IsCredentialHeader(lower)) continue;
                var text = value.ToString();
                json.WriteString(lower, text.Length > 512 ? text[..512] : text);
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool IsCredentialHeader(string lower) =>
        lower is "authorization" or "proxy-authorization" or "cookie" or "set-cookie"
        || lower.Contains("token", StringComparison.Ordinal)
        || lower.Contains("secret", StringComparison.Ordinal)
        || lower.Contains("password", StringComparison.Ordinal)
        || lower.Contains("api-key", StringComparison.Ordinal)
        || lower.Contains("apikey", StringComparison.Ordinal);
}

public sealed record HookAccepted(string Id, bool Duplicate, string TraceId);
