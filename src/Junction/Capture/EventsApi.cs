using System.Text.Json;
using Junction.Canonical;
using Junction.Config;
using Junction.Intake;

namespace Junction.Capture;

/// <summary>
/// POST /v1/events: the creator's own code posts one canonical event (docs/events.md, "Canonical
/// events API") with a key from <c>api_keys:</c>. Validated in full before anything is stored
/// (422 names each bad field), then appended to the raw log of its source — an <c>api</c> or
/// <c>standard-webhooks</c> source named by <c>source</c>, by default the only <c>api</c> source —
/// and normalized like any webhook, so it is listed by GET /v1/events.
/// </summary>
public static class EventsApi
{
    public const int MaxBodyBytes = 256 * 1024;
    public const int MaxIdempotencyKeyLength = 200;

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/events", PostAsync);
        return app;
    }

    private static async Task<IResult> PostAsync(HttpContext http, ApiKeyAuth auth, JunctionConfig config, CaptureIntake intake, RawAppend append, TimeProvider time)
    {
        var started = time.GetTimestamp();
        var request = http.Request;
        if (!auth.IsAuthorized(request))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Create(StatusCodes.Status401Unauthorized, "api-key", "Unauthorized",
                "POST /v1/events needs 'Authorization: Bearer <key>' with one of the keys in api_keys:.");
        }
        if (!MediaTypes.IsJson(request.ContentType)) return Problems.UnsupportedMediaType(request.ContentType);
        if (request.ContentLength > MaxBodyBytes) return Problems.TooLarge(request.ContentLength, MaxBodyBytes);

        byte[]? body;
        try
        {
            body = await HookReceiver.ReadBodyAsync(request, MaxBodyBytes, http.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException)
        {
            return Problems.BadRequest("body-unreadable", "The request body could not be read completely.");
        }
        if (body is null) return Problems.TooLarge(null, MaxBodyBytes);
        if (JsonBody.Problem(body) is { } malformed)
        {
            intake.Refused("_api", "malformed_body");
            return Problems.MalformedBody(malformed);
        }

        JsonElement root;
        try
        {
            root = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException ex)
        {
            return Problems.BadRequest("body-not-json", $"body: expected a JSON object (a canonical event); {ex.Message}", "body");
        }

        var errors = new List<FieldError>();
        var source = ResolveSource(root, config, errors);
        CanonicalInput.Parse(root, out var eventErrors);
        errors.AddRange(eventErrors);

        var idempotencyKey = HookReceiver.Header(request, "Idempotency-Key")?.Trim();
        if (idempotencyKey is { Length: 0 or > MaxIdempotencyKeyLength })
        {
            errors.Add(new FieldError("Idempotency-Key", $"expected 1 to {MaxIdempotencyKeyLength} characters"));
        }
        if (errors.Count > 0)
        {
            intake.Refused(source?.Id ?? "_api", "invalid_fields");
            return CaptureIntake.Invalid(errors, "event");
        }

        var bodyId = CanonicalInput.BodyId(root);
        var dedupKey = idempotencyKey is not null ? "idempotency:" + idempotencyKey
            : bodyId is not null ? "id:" + bodyId
            : null;
        var keptHeaders = Providers.ProviderRegistry.Get(source!.Provider).KeptHeaders;
        var (outcome, problem) = await append.AppendAsync(source, request, body, dedupKey, keptHeaders, started);
        if (problem is not null) return problem;

        var eventId = CanonicalEvent.MakeId(source.Id, CanonicalInput.FactKey(bodyId, RawAppend.DedupKeyOf(dedupKey, body)));
        var o = outcome!.Value;
        return TypedResults.Json(new CaptureAccepted(eventId, o.Id, o.Duplicate, o.TraceId), CaptureJson.Default.CaptureAccepted);
    }

    /// <summary><c>source</c> names an api or standard-webhooks source; absent, the only api source (or the one named <c>api</c>).</summary>
    private static SourceConfig? ResolveSource(JsonElement root, JunctionConfig config, List<FieldError> errors)
    {
        var candidates = config.Sources.Values
            .Where(s => Providers.ProviderRegistry.TryGet(s.Provider, out var p) && p.CanonicalEvents)
            .Select(s => s.Id).Order(StringComparer.Ordinal).ToList();
        var expected = candidates.Count == 0
            ? $"no source with provider {string.Join(" or ", Providers.ProviderRegistry.All.Where(p => p.CanonicalEvents).Select(p => p.Name))} is configured; add one under sources:"
            : $"expected one of {string.Join(", ", candidates)}";
        if (root.ValueKind != JsonValueKind.Object) return null;
        if (root.TryGetProperty("source", out var named) && named.ValueKind != JsonValueKind.Null)
        {
            if (named.ValueKind == JsonValueKind.String && named.GetString() is { } id
                && config.Sources.TryGetValue(id, out var s) && candidates.Contains(id))
            {
                return s;
            }
            errors.Add(new FieldError("source", $"{expected}; got {Clip(named.ToString())}"));
            return null;
        }
        var apis = config.Sources.Values.Where(s => s.Provider == ApiProvider.ProviderName).ToList();
        if (apis.Count == 1) return apis[0];
        if (config.Sources.TryGetValue(ApiProvider.ProviderName, out var byName) && byName.Provider == ApiProvider.ProviderName) return byName;
        errors.Add(new FieldError("source", apis.Count == 0
            ? $"required: no default (no source with provider api is configured); {expected}"
            : $"required: several api sources are configured; {expected}"));
        return null;
    }

    private static string Clip(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
