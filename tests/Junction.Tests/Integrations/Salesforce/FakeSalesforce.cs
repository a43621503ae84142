using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Junction.Tests.Integrations.Salesforce;

/// <summary>
/// A Salesforce org over loopback, following the REST API developer guide: the client credentials
/// token endpoint (400 invalid_client), Bearer sessions that can expire (401 INVALID_SESSION_ID),
/// upsert by an external id field (201 created / 200 updated; the external id refused in the body;
/// required fields and unknown fields as 400 with <c>[{message, errorCode, fields}]</c>), composite
/// requests with <c>@{ref.records[0].Id}</c> references and allOrNone false, SOQL queries paged
/// through <c>nextRecordsUrl</c>, and the org's API allowance as 403 REQUEST_LIMIT_EXCEEDED.
/// </summary>
public sealed partial class FakeSalesforce : IAsyncDisposable
{
    public const string ClientId = "3MVG9_fake_consumer_key";
    public const string ClientSecret = "fake_consumer_secret_0123456789";
    public const string ExternalId = "Junction_Email__c";
    public const string TagsField = "Junction_Tags__c";
    public const string Version = "v62.0";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<string, JsonNode?>> _records = [];
    private readonly HashSet<string> _validTokens = [];
    private readonly Dictionary<string, List<string>> _cursors = [];
    private int _nextId = 1;
    private int _limited;
    private int _failing;
    private int _failStatus = 503;
    private FakeApi _api = null!;

    public Uri BaseUrl => _api.BaseUrl;

    public FakeApi Api => _api;

    /// <summary>Fields of Contact that exist (the rest answer INVALID_FIELD).</summary>
    public HashSet<string> Fields { get; } = new(StringComparer.Ordinal) { "Id", "FirstName", "LastName", "Email", "HasOptedOutOfEmail", ExternalId, TagsField, "Lifetime_Value__c" };

    /// <summary>Query page size (Salesforce: 2 000 by default).</summary>
    public int PageSize { get; set; } = 2000;

    public int TokensIssued { get; private set; }

    public static async Task<FakeSalesforce> StartAsync()
    {
        var fake = new FakeSalesforce();
        fake._api = await FakeApi.StartAsync(fake.Map);
        return fake;
    }

    /// <summary>Every session token issued so far stops working (a session timeout, a revoked app).</summary>
    public void ExpireSessions()
    {
        lock (_gate) _validTokens.Clear();
    }

    /// <summary>The next <paramref name="count"/> API calls answer 403 REQUEST_LIMIT_EXCEEDED (the org's allowance is used up).</summary>
    public void LimitNext(int count)
    {
        lock (_gate) _limited = count;
    }

    public void FailNext(int count, int status = 503)
    {
        lock (_gate) (_failing, _failStatus) = (count, status);
    }

    public void AddContact(string email, params (string Field, JsonNode? Value)[] fields)
    {
        lock (_gate)
        {
            var r = new Dictionary<string, JsonNode?>(StringComparer.Ordinal) { ["Id"] = NewId(), [ExternalId] = email, ["Email"] = email, ["LastName"] = "Known" };
            foreach (var (f, v) in fields) r[f] = v;
            _records[r["Id"]!.GetValue<string>()] = r;
        }
    }

    public IReadOnlyDictionary<string, JsonNode?>? ContactOf(string email)
    {
        lock (_gate) return Find(email) is { } r ? new Dictionary<string, JsonNode?>(r.Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())), StringComparer.Ordinal) : null;
    }

    public IReadOnlyList<string> TagsOf(string email)
    {
        lock (_gate)
        {
            return Find(email) is { } r && r.GetValueOrDefault(TagsField)?.GetValue<string>() is { } v
                ? [.. v.Split(';', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)]
                : [];
        }
    }

    public int ContactCount
    {
        get { lock (_gate) return _records.Count; }
    }

    private string NewId() => "003" + (_nextId++).ToString("D15", CultureInfo.InvariantCulture);

    private Dictionary<string, JsonNode?>? Find(string email) =>
        _records.Values.FirstOrDefault(r => string.Equals(r.GetValueOrDefault(ExternalId)?.GetValue<string>(), email, StringComparison.OrdinalIgnoreCase));

    private void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/services/oauth2/token", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            if (form["grant_type"] != "client_credentials") return Results.Json(new { error = "unsupported_grant_type", error_description = "grant type not supported" }, statusCode: 400);
            if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
            {
                return Results.Json(new { error = "invalid_client", error_description = "invalid client credentials" }, statusCode: 400);
            }
            lock (_gate)
            {
                var token = "00DFAKE!" + Guid.NewGuid().ToString("N");
                _validTokens.Add(token);
                TokensIssued++;
                return Results.Json(new
                {
                    access_token = token, instance_url = BaseUrl.ToString().TrimEnd('/'), id = "https://login.salesforce.com/id/00D/005",
                    token_type = "Bearer", issued_at = "1764504000000", signature = "c2lnbmF0dXJl",
                });
            }
        });

        var data = app.MapGroup("/services/data/" + Version);
        data.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            lock (_gate)
            {
                var auth = http.Request.Headers.Authorization.ToString();
                if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !_validTokens.Contains(auth["Bearer ".Length..]))
                {
                    return Errors(401, "INVALID_SESSION_ID", "Session expired or invalid");
                }
                if (_limited > 0)
                {
                    _limited--;
                    return Errors(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
                }
                if (_failing > 0)
                {
                    _failing--;
                    return Errors(_failStatus, "SERVER_UNAVAILABLE", "Server temporarily unavailable");
                }
            }
            return await next(context);
        });
        data.MapMethods("/sobjects/Contact/{field}/{value}", ["PATCH"], async (string field, string value, HttpContext http) =>
        {
            var (status, body) = Upsert(field, value, await Body(http));
            return Results.Json(body, statusCode: status);
        });
        data.MapGet("/query", (HttpContext http) =>
        {
            var (status, body) = Query(http.Request.Query["q"].ToString());
            return Results.Json(body, statusCode: status);
        });
        data.MapGet("/query/{cursor}", (string cursor) =>
        {
            lock (_gate)
            {
                var at = cursor.LastIndexOf('-');
                var key = cursor[..at];
                var offset = int.Parse(cursor[(at + 1)..], CultureInfo.InvariantCulture);
                if (!_cursors.TryGetValue(key, out var ids)) return Errors(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
                return Results.Json(Page(key, ids, offset));
            }
        });
        data.MapPost("/composite", async (HttpContext http) =>
        {
            var body = await Body(http);
            var results = new JsonArray();
            var byRef = new Dictionary<string, (int Status, JsonNode? Body)>(StringComparer.Ordinal);
            foreach (var sub in body?["compositeRequest"] as JsonArray ?? [])
            {
                var refId = sub!["referenceId"]!.GetValue<string>();
                var url = sub["url"]!.GetValue<string>();
                var method = sub["method"]!.GetValue<string>();
                (int Status, JsonNode? Body) answer;
                var unresolved = false;
                url = Reference().Replace(url, m =>
                {
                    if (byRef.TryGetValue(m.Groups[1].Value, out var prior) && prior.Status < 300 && prior.Body?["records"] is JsonArray { Count: > 0 } recs)
                    {
                        return recs[0]!["Id"]!.GetValue<string>();
                    }
                    unresolved = true;
                    return "";
                });
                var prefix = $"/services/data/{Version}";
                if (unresolved)
                {
                    answer = (400, ErrorArray("PROCESSING_HALTED", $"Invalid reference specified. No value for {refId} found"));
                }
                else if (method == "GET" && url.StartsWith(prefix + "/query?q=", StringComparison.Ordinal))
                {
                    answer = Query(Uri.UnescapeDataString(url[(prefix + "/query?q=").Length..]));
                }
                else if (method == "PATCH" && url.Split('/') is { Length: 8 } byExt && url.StartsWith(prefix + "/sobjects/Contact/", StringComparison.Ordinal))
                {
                    answer = Upsert(byExt[6], Uri.UnescapeDataString(byExt[7]), sub["body"]);
                }
                else if (method == "PATCH" && url.Split('/') is { Length: 7 } byId && url.StartsWith(prefix + "/sobjects/Contact/", StringComparison.Ordinal))
                {
                    answer = Update(byId[6], sub["body"]);
                }
                else
                {
                    answer = (404, ErrorArray("NOT_FOUND", "The requested resource does not exist"));
                }
                byRef[refId] = answer;
                results.Add(new JsonObject { ["body"] = answer.Body?.DeepClone(), ["httpHeaders"] = new JsonObject(), ["httpStatusCode"] = answer.Status, ["referenceId"] = refId });
            }
            return Results.Json(new JsonObject { ["compositeResponse"] = results });
        });
    }

    [GeneratedRegex(@"@\{(\w+)\.records\[0\]\.Id\}")]
    private static partial Regex Reference();

    private (int, JsonNode?) Upsert(string field, string value, JsonNode? body)
    {
        if (field != ExternalId && field != "Id") return (404, ErrorArray("NOT_FOUND", $"Provided external ID field does not exist or is not accessible: {field}"));
        if (body is not JsonObject fields) return (400, ErrorArray("JSON_PARSER_ERROR", "The request body is not JSON"));
        if (fields.ContainsKey(field)) return (400, ErrorArray("INVALID_FIELD", $"The external ID field {field} must not be set in the body of an upsert", field));
        lock (_gate)
        {
            foreach (var (name, _) in fields)
            {
                if (!Fields.Contains(name)) return (400, ErrorArray("INVALID_FIELD", $"No such column '{name}' on sobject of type Contact", name));
            }
            var record = Find(value);
            var created = record is null;
            if (record is null)
            {
                var last = fields["LastName"]?.ToString();
                if (string.IsNullOrEmpty(last)) return (400, ErrorArray("REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", "LastName"));
                record = new(StringComparer.Ordinal) { ["Id"] = NewId(), [ExternalId] = value };
                _records[record["Id"]!.GetValue<string>()] = record;
            }
            foreach (var (name, v) in fields) record[name] = v?.DeepClone();
            return (created ? 201 : 200, new JsonObject { ["id"] = record["Id"]!.GetValue<string>(), ["success"] = true, ["errors"] = new JsonArray(), ["created"] = created });
        }
    }

    private (int, JsonNode?) Update(string id, JsonNode? body)
    {
        lock (_gate)
        {
            if (!_records.TryGetValue(id, out var record)) return (404, ErrorArray("NOT_FOUND", "The requested resource does not exist"));
            foreach (var (name, v) in body as JsonObject ?? [])
            {
                if (name == ExternalId && v?.GetValue<string>() is { } email && Find(email) is { } other && other != record)
                {
                    return (400, ErrorArray("DUPLICATE_VALUE", $"duplicate value found: {ExternalId} duplicates value on record with id: {other["Id"]}", ExternalId));
                }
                record[name] = v?.DeepClone();
            }
            return (204, null);
        }
    }

    /// <summary>Just enough SOQL: <c>SELECT a, b FROM Contact [WHERE f = 'v' | WHERE f != null] [LIMIT n]</c>.</summary>
    private (int, JsonNode?) Query(string soql)
    {
        var m = Soql().Match(soql);
        if (!m.Success) return (400, ErrorArray("MALFORMED_QUERY", "unexpected token"));
        var select = m.Groups["select"].Value.Split(',', StringSplitOptions.TrimEntries);
        foreach (var f in select.Append(m.Groups["field"].Value).Where(f => f.Length > 0))
        {
            if (!Fields.Contains(f)) return (400, ErrorArray("INVALID_FIELD", $"No such column '{f}' on entity 'Contact'"));
        }
        lock (_gate)
        {
            IEnumerable<Dictionary<string, JsonNode?>> rows = _records.Values;
            if (m.Groups["field"].Success && m.Groups["field"].Length > 0)
            {
                var field = m.Groups["field"].Value;
                rows = m.Groups["null"].Success
                    ? rows.Where(r => r.GetValueOrDefault(field) is not null)
                    : rows.Where(r => string.Equals(r.GetValueOrDefault(field)?.ToString(), m.Groups["value"].Value.Replace("\\'", "'", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));
            }
            if (m.Groups["limit"].Success) rows = rows.Take(int.Parse(m.Groups["limit"].Value, CultureInfo.InvariantCulture));
            var key = "01gFAKE" + Guid.NewGuid().ToString("N")[..8];
            _cursors[key] = [.. rows.Select(r => r["Id"]!.GetValue<string>())];
            _cursors[key + ":select"] = [.. select];
            return (200, Page(key, _cursors[key], 0));
        }
    }

    private JsonObject Page(string key, List<string> ids, int offset)
    {
        var select = _cursors[key + ":select"];
        var records = new JsonArray();
        foreach (var id in ids.Skip(offset).Take(PageSize))
        {
            var r = _records[id];
            var o = new JsonObject { ["attributes"] = new JsonObject { ["type"] = "Contact", ["url"] = $"/services/data/{Version}/sobjects/Contact/{id}" } };
            foreach (var f in select) o[f] = r.GetValueOrDefault(f)?.DeepClone();
            records.Add(o);
        }
        var done = offset + PageSize >= ids.Count;
        var page = new JsonObject { ["totalSize"] = ids.Count, ["done"] = done, ["records"] = records };
        if (!done) page["nextRecordsUrl"] = $"/services/data/{Version}/query/{key}-{(offset + PageSize).ToString(CultureInfo.InvariantCulture)}";
        return page;
    }

    [GeneratedRegex(@"^SELECT (?<select>[\w, ]+) FROM Contact(?: WHERE (?<field>\w+) (?:(?<null>!= null)|= '(?<value>(?:[^'\\]|\\.)*)'))?(?: LIMIT (?<limit>\d+))?$")]
    private static partial Regex Soql();

    private static JsonArray ErrorArray(string code, string message, params string[] fields)
    {
        var f = new JsonArray();
        foreach (var x in fields) f.Add(x);
        return [new JsonObject { ["message"] = message, ["errorCode"] = code, ["fields"] = f }];
    }

    private static IResult Errors(int status, string code, string message) => Results.Json(ErrorArray(code, message), statusCode: status);

    private static async Task<JsonNode?> Body(HttpContext http)
    {
        try
        {
            return await JsonNode.ParseAsync(http.Request.Body);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public ValueTask DisposeAsync() => _api.DisposeAsync();
}
