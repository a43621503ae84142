using System.Text.Json.Nodes;
using Junction.Admin;
using Junction.Config;
using Junction.Identity;
using Junction.Intake;
using Junction.Observability;
using Junction.State;
using Junction.Storage;

namespace Junction.Project;

/// <summary>
/// People: look a person up by email, identifier or id (a merged id answers with the survivor),
/// read their timeline, and grant or revoke access by operator override.
/// </summary>
public static class PeopleApi
{
    private static readonly TimeSpan OverrideWait = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapPeopleApi(this IEndpointRouteBuilder app)
    {
        var group = AdminAuth.RequireAdmin(app.MapGroup("/v1/people"));
        group.MapGet("", Find).Needs(AdminRole.Viewer);
        group.MapGet("/{id}", Get).Needs(AdminRole.Viewer);
        group.MapGet("/{id}/timeline", Timeline).Needs(AdminRole.Viewer);
        group.MapPost("/{id}/overrides", AddOverride).Needs(AdminRole.Operator);
        group.MapPost("/{id}/forget", Forget).Needs(AdminRole.Admin);
        return app;
    }

    private static async Task<IResult> Find(HttpRequest request, IJunctionStore store, CancellationToken cancellationToken)
    {
        var email = request.Query["email"].ToString();
        var identifier = request.Query["identifier"].ToString();
        if (email.Length == 0 && identifier.Length == 0)
        {
            return Problems.BadRequest("missing-query", "email or identifier: give ?email=ADDRESS or ?identifier=TYPE:VALUE", "email");
        }
        var relational = (RelationalStore)store;
        IReadOnlyList<string> ids;
        if (email.Length > 0)
        {
            if (Canonical.Identifiers.NormalizeEmail(email) is not { } normalized)
            {
                return Problems.BadRequest("bad-email", "email: expected an email address", "email");
            }
            ids = await relational.FindPeopleAsync(IdentifierKey.Email(normalized), cancellationToken);
        }
        else
        {
            if (!TryParseIdentifier(identifier, out var keys))
            {
                return Problems.BadRequest("bad-identifier",
                    "identifier: expected TYPE:VALUE with TYPE one of email, phone, customer_id, order_id, purchase_token, anonymous_id (customer_id and order_id may be SOURCE:VALUE)", "identifier");
            }
            ids = [];
            foreach (var key in keys)
            {
                ids = await relational.FindPeopleAsync(key, cancellationToken);
                if (ids.Count > 0) break;
            }
        }
        if (ids.Count == 0) return NotFound(email.Length > 0 ? "no person holds that email" : $"no person holds {identifier}");
        return await Answer(relational, ids[0], cancellationToken);
    }

    internal static bool TryParseIdentifier(string text, out IReadOnlyList<IdentifierKey> keys)
    {
        var found = new List<IdentifierKey>();
        if (IdentifierKey.TryParse(text, out var key)) found.Add(key);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && colon < text.Length - 1)
        {
            // customer_id/order_id without their source: match the value under any source.
            var type = text[..colon];
            var value = text[(colon + 1)..];
            if (type == "order_id") found.Add(new IdentifierKey(IdentifierType.OrderId, value));
            if (type == "customer_id") found.Add(new IdentifierKey(IdentifierType.CustomerId, value));
        }
        keys = found;
        return found.Count > 0;
    }

    private static async Task<IResult> Get(string id, IJunctionStore store, CancellationToken cancellationToken) =>
        await Answer((RelationalStore)store, id, cancellationToken);

    private static async Task<IResult> Answer(RelationalStore store, string id, CancellationToken cancellationToken)
    {
        var person = await PersonView.LoadAsync(store, id, cancellationToken);
        return person is null ? NotFound($"no person {id}") : Results.Text(person.ToJsonString(), "application/json");
    }

    private static async Task<IResult> Timeline(string id, IJunctionStore store, CancellationToken cancellationToken)
    {
        var relational = (RelationalStore)store;
        if (await relational.GetPersonAsync(id, cancellationToken) is not { } person) return NotFound($"no person {id}");
        var rows = await relational.TimelineAsync(person.PersonId, cancellationToken);
        var items = new JsonArray();
        foreach (var r in rows)
        {
            items.Add(new JsonObject
            {
                ["at"] = Iso.Utc(r.At),
                ["kind"] = r.Kind,
                ["id"] = r.Id,
                ["trace_id"] = r.TraceId,
                ["summary"] = r.Summary,
                ["detail"] = r.Detail,
            });
        }
        var body = new JsonObject { ["person_id"] = person.PersonId, ["items"] = items };
        return Results.Text(body.ToJsonString(), "application/json");
    }

    private static async Task<IResult> AddOverride(string id, HttpRequest request, IJunctionStore store, JunctionConfig config,
        TimeProvider time, ProjectSignal signal, Projector projector, OperationsLog operations, CancellationToken cancellationToken)
    {
        var relational = (RelationalStore)store;
        var (bytes, malformed) = await JsonBody.ReadAdminAsync(request, optional: false, cancellationToken);
        if (malformed is not null) return malformed;
        var body = JsonNode.Parse(bytes!) as JsonObject;
        if (body is null) return Problems.BadRequest("bad-json", "body: expected a JSON object {\"action\", \"product\", \"reason\"}");
        var action = Text(body, "action");
        var product = Text(body, "product");
        var reason = Text(body, "reason");
        var errors = new List<string>();
        if (action is not (OverrideActions.Grant or OverrideActions.Revoke or OverrideActions.Clear)) errors.Add("action: expected grant, revoke or clear");
        if (product is null) errors.Add("product: required");
        else if (!config.Policy.Products.Any(p => p.Id == product)) errors.Add($"product: '{product}' is not in products: ({string.Join(", ", config.Policy.Products.Select(p => p.Id))})");
        if (action is OverrideActions.Grant or OverrideActions.Revoke && string.IsNullOrWhiteSpace(reason)) errors.Add("reason: required for grant and revoke");
        if (errors.Count > 0)
        {
            return Problems.Create(StatusCodes.Status422UnprocessableEntity, "invalid-override", "Invalid override", string.Join("; ", errors),
                new Dictionary<string, object?> { ["errors"] = errors });
        }
        if (await relational.GetPersonAsync(id, cancellationToken) is not { } person) return NotFound($"no person {id}");

        var o = new OperatorOverride
        {
            Id = "ovr_" + Guid.CreateVersion7(time.GetUtcNow()).ToString("N"),
            Product = product!,
            Action = action!,
            Reason = reason,
            At = time.GetUtcNow(),
        };
        var seq = await relational.AddOverrideAsync(person.PersonId, o, cancellationToken);
        signal.Notify();
        await operations.RecordAsync(request.HttpContext, "people.override", person.PersonId, new JsonObject
        {
            ["override"] = o.Id, ["action"] = o.Action, ["product"] = o.Product, ["reason"] = OperationsLog.Text(o.Reason),
        }, cancellationToken);
        // Answer with the state that includes the override when the projector applies it promptly.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (projector.OverridesApplied < seq && waited.Elapsed < OverrideWait) await Task.Delay(20, cancellationToken);
        var view = await PersonView.LoadAsync(relational, person.PersonId, cancellationToken);
        var answer = new JsonObject
        {
            ["override"] = new JsonObject { ["id"] = o.Id, ["action"] = o.Action, ["product"] = o.Product, ["reason"] = o.Reason, ["at"] = Iso.Utc(o.At) },
            ["applied"] = projector.OverridesApplied >= seq,
            ["person"] = view,
        };
        return Results.Text(answer.ToJsonString(), "application/json", statusCode: projector.OverridesApplied >= seq ? 200 : 202);
    }

    /// <summary>
    /// R8.4: the person's data is gone from the store when this answers; the destination deletions are
    /// queued deliveries, so the answer is 202 while any is queued and 200 when there was none to queue.
    /// </summary>
    private static async Task<IResult> Forget(string id, HttpRequest request, Erasure.ForgetService forget, CancellationToken cancellationToken)
    {
        if (id.Contains('@', StringComparison.Ordinal))
        {
            // An address in a URL ends up in access logs and proxies: only the person id is taken here.
            return Problems.BadRequest("bad-person-id", "id: expected a person id (p_…); look the address up with GET /v1/people?email= first", "id");
        }
        var caller = AdminAuth.Current(request.HttpContext)!;
        var outcome = await forget.ForgetAsync(id, caller.Name, AdminRoles.Name(caller.Role), cancellationToken);
        if (outcome.Status != Erasure.ForgetStatus.Forgotten || outcome.Result is not { } r) return NotFound($"no person {id}");
        var body = new JsonObject
        {
            ["erasure_id"] = r.ErasureId,
            ["person_id"] = r.PersonId,
            ["people"] = r.People,
            ["events_redacted"] = r.Events,
            ["raw_events_redacted"] = r.RawEvents,
            ["destination_deletions"] = new JsonArray([.. outcome.Destinations.Select(d => (JsonNode?)d)]),
            // State destinations whose API Junction does not erase through: the contact is still there.
            ["delete_by_hand"] = new JsonArray([.. outcome.Manual.Select(d => (JsonNode?)d)]),
        };
        return Results.Text(body.ToJsonString(), "application/json", statusCode: r.Deliveries > 0 ? 202 : 200);
    }

    private static string? Text(JsonObject body, string name) =>
        body[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound(string detail) => Problems.Create(StatusCodes.Status404NotFound, "person-not-found", "Person not found", detail);
}

/// <summary>The person document of <c>GET /v1/people/{id}</c>: identity from the graph, state from the fold.</summary>
public static class PersonView
{
    private static readonly string[] StateFields =
        ["consent", "attribution", "tags", "entitlements", "orders", "derived", "webinars", "bookings", "timers", "overrides", "tag_drift", "ignored_writes"];

    public static async Task<JsonObject?> LoadAsync(RelationalStore store, string id, CancellationToken cancellationToken)
    {
        if (await store.GetPersonAsync(id, cancellationToken) is not { } person) return null;
        var identifiers = await store.GetIdentifiersAsync(person.PersonId, cancellationToken);
        var merged = await store.GetMergedIdsAsync(person.PersonId, cancellationToken);
        var state = person.State is { } json ? JsonNode.Parse(json) as JsonObject : null;
        var doc = new JsonObject
        {
            ["id"] = person.PersonId,
            ["emails"] = new JsonArray([.. identifiers.Where(i => i.Type == "email").Select(i => i.Value).Order(StringComparer.Ordinal).Select(v => (JsonNode?)v)]),
            ["primary_email"] = person.PrimaryEmail,
            ["purchase_email"] = person.PurchaseEmail,
            ["identifiers"] = new JsonArray([.. identifiers.OrderBy(i => i.Type, StringComparer.Ordinal).ThenBy(i => i.Value, StringComparer.Ordinal)
                .Select(i => (JsonNode?)new JsonObject { ["type"] = i.Type, ["value"] = i.Value, ["source"] = i.Source })]),
            ["merged_ids"] = new JsonArray([.. merged.Select(m => (JsonNode?)m)]),
            ["first_seen_at"] = Iso.Utc(person.FirstSeenAt),
        };
        foreach (var field in StateFields) doc[field] = state?[field]?.DeepClone();
        doc["attribution"] ??= new JsonObject { ["first_touch"] = null, ["last_touch"] = null };
        // A test person (every event test mode: smoke runs, sandbox purchases) never counts in business figures.
        doc["test"] = state?["test"]?.GetValue<bool>() ?? false;
        doc["digest"] = person.Digest;
        return doc;
    }
}
