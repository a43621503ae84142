using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Dispatch.Fakes;

/// <summary>
/// The GA4 Measurement Protocol as documented: <c>POST /mp/collect?measurement_id=&amp;api_secret=</c>
/// answers 204 to everything, and silently drops what is malformed or sent with the wrong
/// measurement id or api secret ("Validate events": no HTTP error codes). <c>POST /debug/mp/collect</c>
/// records nothing and answers 200 <c>{"validationMessages": [{fieldPath, description, validationCode}]}</c>;
/// like the real validation server it does not check the api secret. Checked here: client_id
/// present, 1–25 events, event names (letters, digits, underscores, starting with a letter, ≤ 40),
/// at most 25 params, parameter values ≤ 100 characters (items included), and a currency whenever
/// value is set. Switches answer 429 with Retry-After or a 5xx for the next N calls.
/// </summary>
public sealed partial class FakeGa4 : IAsyncDisposable
{
    public const string MeasurementId = "G-TEST12345";
    public const string ApiSecret = "ga4-test-secret";

    private readonly Lock _gate = new();
    private readonly List<Ga4Event> _events = [];
    private int _rateLimitNext;
    private string _retryAfter = "30";
    private int _failNext;
    private int _failStatus = 500;

    public FakeApi Api { get; private set; } = null!;

    public Uri BaseUrl => Api.BaseUrl;

    public int DroppedPayloads { get; private set; }

    public static async Task<FakeGa4> StartAsync()
    {
        var fake = new FakeGa4();
        fake.Api = await FakeApi.StartAsync(app =>
        {
            app.MapPost("/mp/collect", (Func<HttpContext, Task<IResult>>)(c => fake.HandleAsync(c, debug: false)));
            app.MapPost("/debug/mp/collect", (Func<HttpContext, Task<IResult>>)(c => fake.HandleAsync(c, debug: true)));
        });
        return fake;
    }

    public void RateLimitNext(int count, string retryAfter = "30")
    {
        lock (_gate)
        {
            _rateLimitNext = count;
            _retryAfter = retryAfter;
        }
    }

    public void FailNext(int count, int status = 500)
    {
        lock (_gate)
        {
            _failNext = count;
            _failStatus = status;
        }
    }

    /// <summary>Events GA4 kept, in arrival order.</summary>
    public IReadOnlyList<Ga4Event> Events
    {
        get { lock (_gate) return _events.ToList(); }
    }

    private async Task<IResult> HandleAsync(HttpContext context, bool debug)
    {
        var text = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        lock (_gate)
        {
            if (_rateLimitNext > 0)
            {
                _rateLimitNext--;
                context.Response.Headers.RetryAfter = _retryAfter;
                return Results.StatusCode(429);
            }
            if (_failNext > 0)
            {
                _failNext--;
                return Results.StatusCode(_failStatus);
            }

            JsonNode? body = null;
            var messages = new JsonArray();
            try
            {
                body = JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
                messages.Add(Message("", "Unable to parse the request body as JSON", "VALUE_INVALID"));
            }
            if (body is not null) Validate(body, messages);

            if (debug)
            {
                return Results.Text(new JsonObject { ["validationMessages"] = messages }.ToJsonString(), "application/json", statusCode: 200);
            }

            var keys = context.Request.Query["measurement_id"] == MeasurementId && context.Request.Query["api_secret"] == ApiSecret;
            if (!keys || messages.Count > 0)
            {
                DroppedPayloads++;
                return Results.NoContent();
            }
            var timestamp = body!["timestamp_micros"]?.GetValue<long>();
            foreach (var e in body["events"]!.AsArray())
            {
                _events.Add(new Ga4Event(body["client_id"]!.GetValue<string>(), body["user_id"]?.GetValue<string>(),
                    e!["name"]!.GetValue<string>(), e["params"]?.AsObject() is { } p ? (JsonObject)p.DeepClone() : [], timestamp));
            }
            return Results.NoContent();
        }
    }

    private static void Validate(JsonNode body, JsonArray messages)
    {
        if (body["client_id"] is not JsonValue clientId || string.IsNullOrEmpty(clientId.ToString()))
        {
            messages.Add(Message("client_id", "client_id is required", "VALUE_REQUIRED"));
        }
        if (body["events"] is not JsonArray events || events.Count == 0)
        {
            messages.Add(Message("events", "At least one event is required", "VALUE_REQUIRED"));
            return;
        }
        if (events.Count > 25) messages.Add(Message("events", "Too many events (max 25)", "EXCEEDED_MAX_ENTITIES"));
        for (var i = 0; i < events.Count; i++)
        {
            var name = events[i]?["name"]?.ToString() ?? "";
            if (!EventName().IsMatch(name))
            {
                messages.Add(Message("events", $"Event at index: [{i}] has invalid name [{name}]. Names must start with an alphabetic character.", "NAME_INVALID"));
            }
            if (events[i]?["params"] is not JsonObject parameters) continue;
            if (parameters.Count > 25) messages.Add(Message($"events[{i}].params", "Too many params (max 25)", "EXCEEDED_MAX_ENTITIES"));
            if (parameters.ContainsKey("value") && !parameters.ContainsKey("currency"))
            {
                messages.Add(Message($"events[{i}].params.currency", "Currency is required when value is set", "VALUE_REQUIRED"));
            }
            foreach (var (key, value) in parameters)
            {
                TooLong($"events[{i}].params.{key}", value, messages);
            }
            if (parameters["items"] is JsonArray items)
            {
                for (var j = 0; j < items.Count; j++)
                {
                    foreach (var (key, value) in items[j]?.AsObject() ?? [])
                    {
                        TooLong($"events[{i}].params.items[{j}].{key}", value, messages);
                    }
                }
            }
        }
    }

    private static void TooLong(string path, JsonNode? value, JsonArray messages)
    {
        if (value is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 100)
        {
            messages.Add(Message(path, $"Value is too long ({s.Length.ToString(CultureInfo.InvariantCulture)} characters, max 100)", "VALUE_OUT_OF_BOUNDS"));
        }
    }

    private static JsonObject Message(string fieldPath, string description, string code) =>
        new() { ["fieldPath"] = fieldPath, ["description"] = description, ["validationCode"] = code };

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,39}$")]
    private static partial Regex EventName();

    public ValueTask DisposeAsync() => Api.DisposeAsync();
}

public sealed record Ga4Event(string ClientId, string? UserId, string Name, JsonObject Params, long? TimestampMicros);
