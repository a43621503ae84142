using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Kajabi;

/// <summary>
/// Kajabi Public API v1 (developers.kajabi.com/api-reference; JSON:API, OAuth client-credentials
/// bearer token, see <see cref="KajabiToken"/>). A state destination of which only offer access
/// matters: finds the person's contact in the configured site (<c>GET /v1/contacts</c> with
/// <c>filter[site_id]</c> and <c>filter[email_contains]</c>, exact match picked here), creates it
/// when missing (<c>POST /v1/contacts</c> with the <c>site</c> relationship), reads the offers it
/// holds (<c>GET /v1/contacts/{id}/relationships/offers</c>), grants the offers desired and not
/// held (<c>POST</c> on that relationship, one call for all) and revokes the ones Junction granted
/// that are no longer desired (<c>DELETE</c> on it). Offers Junction never granted are left alone
/// (see <see cref="KajabiDestination"/> for why that matters: Kajabi's revoke also ends purchases).
/// A retry after a partial success is safe: the held offers are read first. A 401 with a kept
/// token renews it once (a rotated key, an early expiry) before the call is tried again.
/// </summary>
public sealed class KajabiConnector(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationConnector
{
    private const string JsonApi = "application/vnd.api+json";

    // Kajabi's 429 has no documented header; Retry-After and the common reset headers are read when present.
    internal static readonly string[] ResetHeaders = ["RateLimit-Reset", "X-RateLimit-Reset"];

    private const int MaxSearchPages = 5;

    private readonly KajabiToken _token = new(config, time);

    public DestinationConfig Config { get; } = config;

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        var attempt = new DestinationHttp(http, time) { ResetHeaders = ResetHeaders, DefaultRetryAfter = TimeSpan.FromSeconds(60) };
        if (work.Desired is not { } desired) return attempt.Permanent("kajabi: the task carries no desired state");
        if (KajabiToken.CheckConfig(Config) is { } configError) return attempt.Permanent(configError);

        var last = work.LastSynced;
        // A changed email is another Kajabi contact: the old one loses what Junction granted it, the new one gets all of it.
        var sameContact = last is not null && string.Equals(last.Email, desired.Email, StringComparison.OrdinalIgnoreCase);
        var lastOffers = last?.Courses ?? [];
        var grant = desired.Courses.Where(c => !sameContact || !lastOffers.Contains(c, StringComparer.Ordinal)).ToList();
        var revoke = lastOffers.Where(c => !sameContact || !desired.Courses.Contains(c, StringComparer.Ordinal)).ToList();
        if (grant.Count == 0 && revoke.Count == 0) return attempt.Succeeded();
        foreach (var offer in grant.Concat(revoke))
        {
            if (!KajabiToken.IsId(offer)) return attempt.Permanent($"destinations.{Config.Id}.courses: '{offer}' is not a Kajabi offer id (digits, as in /admin/offers/<id>)");
        }

        var session = new Session(this, attempt);
        if (await session.StartAsync(cancellationToken) is { } tokenFailure) return tokenFailure;

        if (revoke.Count > 0)
        {
            var (contact, failure) = await session.FindContactAsync(sameContact ? desired.Email : last!.Email, cancellationToken);
            if (failure is not null) return failure;
            // No contact with that email: nothing to take away.
            if (contact is { } id)
            {
                var (held, heldFailure) = await session.OffersAsync(id, cancellationToken);
                if (heldFailure is not null) return heldFailure;
                var take = revoke.Where(held.Contains).ToList();
                if (take.Count > 0)
                {
                    var reply = await session.SendAsync(HttpMethod.Delete, $"v1/contacts/{Uri.EscapeDataString(id)}/relationships/offers", Identifiers(take), cancellationToken);
                    // 404: the contact is gone, so is its access.
                    if (!reply.IsSuccess && reply.Status != 404) return session.Failed(reply, $"revoke offer {string.Join(", ", take)}");
                }
            }
        }

        if (grant.Count > 0)
        {
            var (found, failure) = await session.FindContactAsync(desired.Email, cancellationToken);
            if (failure is not null) return failure;
            string id;
            if (found is { } existing)
            {
                id = existing;
                var (held, heldFailure) = await session.OffersAsync(id, cancellationToken);
                if (heldFailure is not null) return heldFailure;
                grant.RemoveAll(held.Contains);
            }
            else
            {
                (id, failure) = await session.CreateContactAsync(desired, cancellationToken);
                if (failure is not null) return failure;
            }
            if (grant.Count > 0)
            {
                var reply = await session.SendAsync(HttpMethod.Post, $"v1/contacts/{Uri.EscapeDataString(id)}/relationships/offers", Identifiers(grant), cancellationToken);
                if (!reply.IsSuccess) return session.Failed(reply, $"grant offer {string.Join(", ", grant)}");
            }
        }
        return attempt.Succeeded();
    }

    /// <summary>A JSON:API list of offer resource identifiers.</summary>
    private static JsonObject Identifiers(IEnumerable<string> offers)
    {
        var data = new JsonArray();
        foreach (var offer in offers) data.Add(new JsonObject { ["type"] = "offers", ["id"] = offer });
        return new JsonObject { ["data"] = data };
    }

    /// <summary>The contact's display name from the mapped fields: <c>name</c>, else <c>first_name last_name</c>.</summary>
    internal static string? Name(DesiredContact desired)
    {
        string? Field(string key) => desired.Fields.FirstOrDefault(f => f.Key == key).Value is { Length: > 0 } v && v.Trim().Length > 0 ? v.Trim() : null;
        if (Field("name") is { } name) return name;
        var joined = string.Join(' ', new[] { Field("first_name"), Field("last_name") }.Where(s => s is not null));
        return joined.Length > 0 ? joined : null;
    }

    /// <summary>The calls of one delivery, sharing its <see cref="DestinationHttp"/> (the DLQ's request list).</summary>
    private sealed class Session(KajabiConnector connector, DestinationHttp attempt)
    {
        private readonly Dictionary<string, string?> _contacts = new(StringComparer.OrdinalIgnoreCase);
        private string _bearer = "";
        private bool _renewed;

        private string Site => connector.Config.Options[KajabiDestination.SiteId];

        public async Task<DeliveryResult?> StartAsync(CancellationToken cancellationToken) => await TokenAsync(renew: false, cancellationToken);

        private async Task<DeliveryResult?> TokenAsync(bool renew, CancellationToken cancellationToken)
        {
            var (token, reply, unexpected) = await connector._token.GetAsync(attempt, renew, cancellationToken);
            if (token is not null)
            {
                _bearer = token;
                return null;
            }
            if (unexpected is not null) return attempt.Unexpected(reply!, unexpected);
            var failed = attempt.Failed(reply!, "get access token", KajabiToken.Message);
            // The token endpoint answers a refused client with 400 or 401 {"error": "invalid_client"}: no retry fixes that.
            return reply!.Status is 400 or 401 or 403
                ? failed with { Outcome = DeliveryOutcome.Permanent, Error = failed.Error + $" (check destinations.{connector.Config.Id}.credentials.client_id and client_secret)" }
                : failed;
        }

        public async Task<HttpReply> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
        {
            var reply = await SendOnceAsync(method, path, body, cancellationToken);
            if (reply.Status != 401 || _renewed) return reply;
            // A kept token Kajabi no longer accepts (rotated key, early expiry): renew once and ask again.
            _renewed = true;
            return await TokenAsync(renew: true, cancellationToken) is null ? await SendOnceAsync(method, path, body, cancellationToken) : reply;
        }

        private Task<HttpReply> SendOnceAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken) =>
            attempt.SendAsync(method, DestinationHttp.Under(connector.Config.BaseUrl, path), "/" + path, body?.ToJsonString(), r =>
            {
                r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _bearer);
                r.Headers.Accept.ParseAdd(JsonApi);
                if (r.Content is not null) r.Content.Headers.ContentType = new MediaTypeHeaderValue(JsonApi);
            }, cancellationToken);

        public DeliveryResult Failed(HttpReply reply, string what)
        {
            var result = attempt.Failed(reply, what, KajabiToken.Message);
            return reply.Status is 401 or 403
                ? result with { Error = result.Error + $" (destinations.{connector.Config.Id}.credentials: the User API Key needs the contacts and offers permissions)" }
                : result;
        }

        public async Task<(string? ContactId, DeliveryResult? Failure)> FindContactAsync(string email, CancellationToken cancellationToken)
        {
            if (_contacts.TryGetValue(email, out var known)) return (known, null);
            for (var page = 1; page <= MaxSearchPages; page++)
            {
                var path = "v1/contacts?filter%5Bsite_id%5D=" + Uri.EscapeDataString(Site) + "&filter%5Bemail_contains%5D=" + Uri.EscapeDataString(email)
                    + "&page%5Bnumber%5D=" + page.ToString(CultureInfo.InvariantCulture) + "&page%5Bsize%5D=100";
                var reply = await SendAsync(HttpMethod.Get, path, null, cancellationToken);
                if (!reply.IsSuccess) return (null, Failed(reply, "find contact"));
                try
                {
                    using var doc = JsonDocument.Parse(reply.Body);
                    if (!doc.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                    {
                        return (null, attempt.Unexpected(reply, "find contact: no 'data' list"));
                    }
                    foreach (var contact in data.EnumerateArray())
                    {
                        if (contact.TryGetProperty("attributes", out var a) && a.TryGetProperty("email", out var e)
                            && string.Equals(e.GetString()?.Trim(), email, StringComparison.OrdinalIgnoreCase)
                            && contact.TryGetProperty("id", out var i) && i.GetString() is { Length: > 0 } id)
                        {
                            _contacts[email] = id;
                            return (id, null);
                        }
                    }
                    if (!KajabiReadBack.HasNextPage(doc.RootElement, page)) break;
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException)
                {
                    return (null, attempt.Unexpected(reply, "find contact: the body is not the documented JSON"));
                }
            }
            _contacts[email] = null;
            return (null, null);
        }

        /// <summary>The offer ids the contact holds (JSON:API resource identifiers).</summary>
        public async Task<(HashSet<string> Offers, DeliveryResult? Failure)> OffersAsync(string contactId, CancellationToken cancellationToken)
        {
            var held = new HashSet<string>(StringComparer.Ordinal);
            var reply = await SendAsync(HttpMethod.Get, $"v1/contacts/{Uri.EscapeDataString(contactId)}/relationships/offers", null, cancellationToken);
            if (!reply.IsSuccess) return (held, Failed(reply, "list the contact's offers"));
            try
            {
                using var doc = JsonDocument.Parse(reply.Body);
                if (!doc.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                {
                    return (held, attempt.Unexpected(reply, "list the contact's offers: no 'data' list"));
                }
                foreach (var offer in data.EnumerateArray())
                {
                    if (offer.TryGetProperty("id", out var i) && i.GetString() is { Length: > 0 } id) held.Add(id);
                }
                return (held, null);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                return (held, attempt.Unexpected(reply, "list the contact's offers: the body is not the documented JSON"));
            }
        }

        public async Task<(string ContactId, DeliveryResult? Failure)> CreateContactAsync(DesiredContact desired, CancellationToken cancellationToken)
        {
            var attributes = new JsonObject { ["email"] = desired.Email };
            if (Name(desired) is { } name) attributes["name"] = name;
            var body = new JsonObject
            {
                ["data"] = new JsonObject
                {
                    ["type"] = "contacts",
                    ["attributes"] = attributes,
                    ["relationships"] = new JsonObject { ["site"] = new JsonObject { ["data"] = new JsonObject { ["type"] = "sites", ["id"] = Site } } },
                },
            };
            var reply = await SendAsync(HttpMethod.Post, "v1/contacts", body, cancellationToken);
            if (!reply.IsSuccess) return ("", Failed(reply, "create contact"));
            try
            {
                using var doc = JsonDocument.Parse(reply.Body);
                if (doc.RootElement.TryGetProperty("data", out var data) && data.TryGetProperty("id", out var i) && i.GetString() is { Length: > 0 } id)
                {
                    _contacts[desired.Email] = id;
                    return (id, null);
                }
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                // Reported below.
            }
            return ("", attempt.Unexpected(reply, "create contact: the response carries no contact id"));
        }
    }
}
