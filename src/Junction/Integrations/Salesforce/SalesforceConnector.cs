using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Salesforce;

/// <summary>
/// Salesforce REST API: one Contact (or Lead) per person, upserted by an external id field holding the
/// email (<c>PATCH /services/data/vXX.X/sobjects/{object}/{field}/{email}</c>), carrying only the
/// changed mapped fields, the mapped tags as one semicolon-separated field (a multi-select picklist
/// takes that form; a removed tag is written away) and withdrawn consent as HasOptedOutOfEmail. An
/// email change needs three calls (find the old record, move it to the new address, upsert), sent
/// as one composite request. A refused session token is replaced once and the call tried once more.
/// </summary>
public sealed class SalesforceConnector : IDestinationConnector
{
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly SalesforceSession _session;
    private readonly string _object;
    private readonly string _externalId;
    private readonly string? _tagsField;
    private readonly string _version;

    public SalesforceConnector(DestinationConfig config, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _http = http;
        _time = time;
        _session = new SalesforceSession(config);
        _object = config.Options.GetValueOrDefault(SalesforceDestination.ObjectOption) ?? SalesforceDestination.DefaultObject;
        _externalId = config.Options.GetValueOrDefault(SalesforceDestination.ExternalIdField) ?? "";
        _tagsField = config.Options.GetValueOrDefault(SalesforceDestination.TagsField);
        _version = config.Options.GetValueOrDefault(SalesforceDestination.ApiVersion) ?? SalesforceDestination.DefaultApiVersion;
    }

    public DestinationConfig Config { get; }

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var call = new DestinationHttp(_http, _time, Config.BaseUrl);
        if (work.Kind != DeliveryKinds.State || work.Desired is not { } desired) return call.Permanent("salesforce takes desired-state deliveries only");
        if (_externalId.Length == 0) return call.Permanent($"salesforce: destinations.{Config.Id}.{SalesforceDestination.ExternalIdField} is not set");
        var last = work.LastSynced;
        var moved = last is not null && last.Email != desired.Email;
        // A moved contact may not be found at its old address: then the upsert creates it, in full.
        var record = Record(desired, moved ? null : last);
        if (record.Count == 0 && !moved) return call.Succeeded();

        var upsertPath = $"{Data}/sobjects/{_object}/{_externalId}/{Uri.EscapeDataString(desired.Email)}";
        if (!moved)
        {
            var r = await SendAsync(call, HttpMethod.Patch, upsertPath, record, cancellationToken);
            return r.IsSuccess ? call.Succeeded() : Fail(call, r);
        }

        // allOrNone false: when the old address is not there (or the new one already is) the move fails
        // and the upsert still runs; it is the upsert's answer that decides.
        var soql = $"SELECT Id FROM {_object} WHERE {_externalId} = '{Soql(last!.Email)}' LIMIT 1";
        var composite = new JsonObject
        {
            ["allOrNone"] = false,
            ["compositeRequest"] = new JsonArray(
                new JsonObject { ["method"] = "GET", ["url"] = $"{Data}/query?q={Uri.EscapeDataString(soql)}", ["referenceId"] = "old" },
                new JsonObject
                {
                    ["method"] = "PATCH", ["url"] = $"{Data}/sobjects/{_object}/@{{old.records[0].Id}}", ["referenceId"] = "move",
                    ["body"] = new JsonObject { [_externalId] = desired.Email },
                },
                new JsonObject { ["method"] = "PATCH", ["url"] = upsertPath, ["referenceId"] = "upsert", ["body"] = record }),
        };
        var c = await SendAsync(call, HttpMethod.Post, $"{Data}/composite", composite, cancellationToken);
        if (!c.IsSuccess) return Fail(call, c);
        try
        {
            using var doc = JsonDocument.Parse(c.Body);
            foreach (var sub in doc.RootElement.GetProperty("compositeResponse").EnumerateArray())
            {
                if (sub.GetProperty("referenceId").GetString() != "upsert") continue;
                var status = sub.GetProperty("httpStatusCode").GetInt32();
                if (status is >= 200 and < 300) return call.Succeeded();
                return Fail(call, c with { Status = status, Body = sub.TryGetProperty("body", out var b) ? b.GetRawText() : "" });
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
        }
        return call.Unexpected(c, "not the composite answer Salesforce documents");
    }

    private string Data => $"/services/data/{_version}";

    /// <summary>The fields to write: all of them for a new contact, else only what changed (null clears a field).</summary>
    private JsonObject Record(DesiredContact desired, DesiredContact? last)
    {
        var record = new JsonObject();
        var before = last?.Fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        foreach (var (name, value) in desired.Fields)
        {
            if (name == _externalId) continue; // the upsert key travels in the URL; Salesforce refuses it in the body
            if (before is null || !before.TryGetValue(name, out var old) || old != value) record[name] = value;
        }
        foreach (var name in before?.Keys.Where(k => k != _externalId && !desired.Fields.Any(f => f.Key == k)) ?? []) record[name] = null;
        if (last is null && _externalId != "Email" && !record.ContainsKey("Email")) record["Email"] = desired.Email;
        if (_tagsField is { } tags && (last is null || !last.Tags.SequenceEqual(desired.Tags)))
        {
            record[tags] = desired.Tags.Count == 0 ? null : string.Join(';', desired.Tags);
        }
        // Withdrawn consent is set; a new opt-in clears it; a buyer who never gave consent is left as Salesforce has them.
        if (desired.OptedOut && last is not { OptedOut: true }) record["HasOptedOutOfEmail"] = true;
        else if (desired.Subscribed && last is not { Subscribed: true }) record["HasOptedOutOfEmail"] = false;
        return record;
    }

    /// <summary>One API call with the session token; a 401 INVALID_SESSION_ID gets a new token and one more try.</summary>
    private async Task<HttpReply> SendAsync(DestinationHttp call, HttpMethod method, string path, JsonNode body, CancellationToken cancellationToken)
    {
        string? refused = null;
        for (var attempt = 0; ; attempt++)
        {
            var (token, failure) = await _session.TokenAsync(call, refused, cancellationToken);
            if (failure is not null) return failure with { Body = TokenMarker + failure.Body };
            var reply = await call.SendAsync(method, DestinationHttp.Under(Config.BaseUrl, path), path, body.ToJsonString(), r =>
            {
                r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            }, cancellationToken);
            if (reply.Status != 401 || attempt > 0 || !reply.Body.Contains("INVALID_SESSION_ID", StringComparison.Ordinal)) return reply;
            refused = token;
        }
    }

    // Marks a reply that came from the token endpoint, so its failure names the credentials.
    private const string TokenMarker = "\u0001token:";

    private DeliveryResult Fail(DestinationHttp call, HttpReply r)
    {
        if (r.Body.StartsWith(TokenMarker, StringComparison.Ordinal))
        {
            var reply = r with { Body = r.Body[TokenMarker.Length..] };
            // An outage or a timeout at the token endpoint is retried like any other; a refusal is not.
            return reply.Status is 0 or 408 or 429 or >= 500 ? call.Failed(reply, "salesforce: token") : call.Permanent(SalesforceSession.TokenError(reply), reply.Status);
        }
        var result = call.Failed(r, "salesforce", ErrorMessage);
        if (r.Status == 401) return result with { Error = result.Error + $" (credentials.{SalesforceDestination.ClientId}/{SalesforceDestination.ClientSecret})" };
        if (r.Status == 403 && r.Body.Contains("REQUEST_LIMIT_EXCEEDED", StringComparison.Ordinal))
        {
            // The org's API allowance (a rolling 24 h total, or too many concurrent long requests) — not this
            // contact's fault: wait, do not dead-letter.
            var concurrent = r.Body.Contains("Concurrent", StringComparison.OrdinalIgnoreCase);
            return result with
            {
                Outcome = DeliveryOutcome.RateLimited,
                RetryAfter = DestinationHttp.RetryAfter(r.Headers, _time) ?? (concurrent ? TimeSpan.FromSeconds(10) : TimeSpan.FromMinutes(5)),
            };
        }
        if (r.Status == 300) return call.Permanent($"salesforce: more than one {_object} has this {_externalId}; merge them in Salesforce", 300);
        return result;
    }

    /// <summary>Salesforce's errors: <c>[{"message":"…","errorCode":"…","fields":["LastName"]}]</c>.</summary>
    internal static string? ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Array) return null;
            var parts = new List<string>();
            foreach (var e in doc.RootElement.EnumerateArray().Take(3))
            {
                if (e.ValueKind != JsonValueKind.Object) continue;
                var code = e.TryGetProperty("errorCode", out var c) ? c.GetString() : null;
                var message = e.TryGetProperty("message", out var m) ? m.GetString() : null;
                var fields = e.TryGetProperty("fields", out var f) && f.ValueKind == JsonValueKind.Array && f.GetArrayLength() > 0
                    ? " (fields: " + string.Join(", ", f.EnumerateArray().Select(x => x.GetString())) + ")" : "";
                parts.Add($"{code}: {message}{fields}");
            }
            return parts.Count > 0 ? string.Join("; ", parts) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A SOQL string literal's content (quote and backslash escaped).</summary>
    internal static string Soql(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);
}
