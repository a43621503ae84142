using System.Text.Json;
using Junction.Canonical;
using Junction.Config;
using Junction.Intake;

namespace Junction.Capture;

/// <summary>
/// POST /v1/forms/{source}: a landing-page form (form-encoded, answered 303 to the source's
/// <c>redirect</c>) or a script's fetch (JSON, answered 200 with the event id). Validated before
/// anything is stored (422 naming the field), appended to the raw log like a webhook, normalized
/// by <see cref="FormMapper"/>. CORS per source (<c>allowed_origins</c>); a filled honeypot is
/// answered exactly like a success and stores nothing.
/// </summary>
public static class FormsApi
{
    private static readonly string[] AllowedRequestHeaders = ["content-type", "idempotency-key"];

    public static IEndpointRouteBuilder MapFormsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/forms/{source}", PostAsync);
        app.MapMethods("/v1/forms/{source}", ["OPTIONS"], Preflight);
        app.MapMethods("/v1/snippet.js", ["GET", "HEAD"], Snippet.Serve);
        return app;
    }

    private static async Task<IResult> PostAsync(string source, HttpContext http, JunctionConfig config, CaptureIntake intake, RawAppend append, TimeProvider time)
    {
        var started = time.GetTimestamp();
        var request = http.Request;
        if (!config.Sources.TryGetValue(source, out var sourceConfig) || sourceConfig.Provider != FormProvider.ProviderName)
        {
            return NotAFormSource(source);
        }
        var form = FormSource.From(sourceConfig);
        AddCors(http, form, preflight: false);

        var isForm = MediaTypes.IsForm(request.ContentType);
        if (!isForm && !MediaTypes.IsJson(request.ContentType)) return Problems.UnsupportedMediaType(request.ContentType);
        if (request.ContentLength > sourceConfig.MaxBodyBytes) return Problems.TooLarge(request.ContentLength, sourceConfig.MaxBodyBytes);

        byte[]? body;
        try
        {
            body = await HookReceiver.ReadBodyAsync(request, sourceConfig.MaxBodyBytes, http.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException)
        {
            return Problems.BadRequest("body-unreadable", "The request body could not be read completely.");
        }
        if (body is null) return Problems.TooLarge(null, sourceConfig.MaxBodyBytes);
        if ((isForm ? Utf8Problem(body) : JsonBody.Problem(body)) is { } malformed)
        {
            intake.Refused(sourceConfig.Id, "malformed_body");
            return Problems.MalformedBody(malformed);
        }

        Dictionary<string, string> fields;
        try
        {
            fields = FormSubmission.Fields(body, isForm);
        }
        catch (JsonException ex)
        {
            return Problems.BadRequest("body-not-json", $"body: expected a flat JSON object of form fields; {ex.Message}", "body");
        }

        var submissionId = HookReceiver.Header(request, "Idempotency-Key") ?? FormSubmission.Get(fields, "submission_id");
        var dedupKey = submissionId is { Length: <= 200 } ? "submission:" + submissionId.Trim() : null;
        var eventId = CanonicalEvent.MakeId(sourceConfig.Id, FormMapper.FactKey(RawAppend.DedupKeyOf(dedupKey, body)));

        if (FormSubmission.Get(fields, form.Honeypot) is not null)
        {
            // Same answer as a success, so a bot learns nothing; nothing is stored.
            intake.Refused(sourceConfig.Id, "honeypot");
            return Success(http, form, isForm, new CaptureAccepted(eventId, Guid.CreateVersion7(time.GetUtcNow()).ToString(), false, HookReceiver.TraceIdOf(request)));
        }

        if (FormSubmission.Read(fields, FormMapper.ConsentSource(sourceConfig.Id), time.GetUtcNow(), out var errors) is null)
        {
            intake.Refused(sourceConfig.Id, "invalid_fields");
            return CaptureIntake.Invalid(errors, "form");
        }

        var (outcome, problem) = await append.AppendAsync(sourceConfig, request, body, dedupKey,
            Providers.ProviderRegistry.Get(FormProvider.ProviderName).KeptHeaders, started);
        if (problem is not null) return problem;
        var o = outcome!.Value;
        return Success(http, form, isForm, new CaptureAccepted(eventId, o.Id, o.Duplicate, o.TraceId));
    }

    private static string? Utf8Problem(byte[] body) =>
        JsonBody.InvalidUtf8At(body) is { } at ? $"body: invalid UTF-8 at byte {at}" : null;

    private static IResult Success(HttpContext http, FormSource form, bool isForm, CaptureAccepted accepted)
    {
        if (!isForm) return TypedResults.Json(accepted, CaptureJson.Default.CaptureAccepted);
        if (form.Redirect is { } redirect)
        {
            http.Response.Headers.Location = redirect;
            return TypedResults.StatusCode(StatusCodes.Status303SeeOther);
        }
        return TypedResults.Content("<!doctype html><meta charset=utf-8><title>Thank you</title><p>Thank you — you're on the list.</p>",
            "text/html; charset=utf-8");
    }

    private static Microsoft.AspNetCore.Http.HttpResults.NoContent Preflight(string source, HttpContext http, JunctionConfig config)
    {
        if (config.Sources.TryGetValue(source, out var sourceConfig) && sourceConfig.Provider == FormProvider.ProviderName)
        {
            AddCors(http, FormSource.From(sourceConfig), preflight: true);
        }
        // Answered either way; without the CORS headers the browser refuses the real request itself.
        return TypedResults.NoContent();
    }

    private static void AddCors(HttpContext http, FormSource form, bool preflight)
    {
        var headers = http.Response.Headers;
        headers.Vary = "Origin";
        var origin = http.Request.Headers.Origin.ToString();
        if (!form.Allows(origin)) return;
        headers.AccessControlAllowOrigin = origin;
        if (!preflight) return;
        headers.AccessControlAllowMethods = "POST, OPTIONS";
        var requested = http.Request.Headers.AccessControlRequestHeaders.ToString()
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(h => AllowedRequestHeaders.Contains(h.ToLowerInvariant()));
        headers.AccessControlAllowHeaders = string.Join(", ", AllowedRequestHeaders.Union(requested.Select(h => h.ToLowerInvariant())));
        headers.AccessControlMaxAge = "600";
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotAFormSource(string source) =>
        Problems.Create(StatusCodes.Status404NotFound, "unknown-form-source", "Unknown form source",
            $"No source '{source}' with provider form is configured; forms post to /v1/forms/{{source id of a form source}}.");
}
