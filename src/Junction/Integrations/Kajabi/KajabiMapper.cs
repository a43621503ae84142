using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Integrations.Kajabi;

/// <summary>
/// Kajabi webhooks → canonical events, by <c>event</c>. The API hooks (developers.kajabi.com
/// api-reference/webhooks/*-sample) post <c>{id, event, payload}</c> where <c>payload</c> is an array
/// of JSON:API resources: <c>purchase</c> → <c>purchases</c> (amount_in_cents, currency, opt_in,
/// created_at) + <c>offers</c> (title) + <c>customers</c> (email, name, contact relationship);
/// <c>order_created</c> (Kajabi Cart) → <c>orders</c> + <c>order_items</c> + <c>transactions</c>;
/// <c>form_submission</c> → <c>form_submissions</c> + <c>forms</c>; <c>tag_added</c>/<c>tag_removed</c>
/// → <c>contacts</c> + <c>contact_tags</c>. The older outbound "Purchase Created" webhook
/// (help.kajabi.com outbound webhook data reference) posts a flat <c>{id, event: "purchase.created",
/// offer{id,title}, member{id,email,name,…}, opt_in}</c>. The person's id is the contact id
/// everywhere (the member id of the legacy webhook is the contact record's id).
/// </summary>
public sealed class KajabiMapper : IPayloadMapper
{
    public MapResult Map(RawInput raw)
    {
        if (!Mapping.TryJson(raw, "a Kajabi webhook", out var root, out var problem)) return problem;
        if (root.ValueKind != JsonValueKind.Object) return new MapResult.Quarantined("body: expected a JSON object with event and payload");
        var name = root.Str("event");
        if (name is null) return new MapResult.Quarantined("event: required, expected an event name such as purchase or form_submission");
        return Mapping.Typed(name, () => MapEvent(raw, root, name));
    }

    private static MapResult MapEvent(RawInput raw, JsonElement root, string name)
    {
        var id = root.RequiredStr("id");
        switch (name)
        {
            case "purchase":
            {
                var payload = Payload(root);
                var purchase = Resource(payload, "purchases") ?? throw new MappingException("payload: expected a resource of type purchases");
                var a = Attributes(purchase, "purchases");
                var order = purchase.Str("id") ?? throw new MappingException("payload[purchases].id: required, expected the purchase id");
                var cents = Attr(() => a.Whole("amount_in_cents"), "purchases");
                var currency = Currency(a.Str("currency"), "payload[purchases].attributes.currency");
                var offers = RelatedIds(purchase, "offer").Concat(RelatedIds(purchase, "offers")).Distinct(StringComparer.Ordinal).ToList();
                var items = offers.Select(offerId => new OrderItem
                {
                    ProductId = offerId,
                    Name = Resource(payload, "offers", offerId)?.Str("attributes.title"),
                    Quantity = (int)(Attr(() => a.Whole("quantity"), "purchases") ?? 1),
                    Amount = offers.Count == 1 ? cents : null,
                }).ToList();
                var subject = CustomerSubject(payload, purchase);
                var at = Attr(() => a.Time("created_at"), "purchases") ?? raw.ReceivedAt;
                // One fact: the purchase. Kajabi grants the offer with it; access follows from the order's
                // offer (product_id) through the products config, so no second access.granted is emitted.
                var e = raw.Event(EventTypes.OrderPaid, $"{EventTypes.OrderPaid}:{order}", at, subject, providerType: name) with
                {
                    Order = new OrderInfo { OrderId = order, Amount = cents, Currency = currency, Items = items },
                    Attribution = a.Str("referrer") is { } referrer ? AttributionParser.FromUrl(referrer, referrer) : null,
                    Consent = a.Bool("opt_in") is true
                        ? [new ConsentInfo { Channel = "email", Granted = true, Source = $"kajabi checkout offer {string.Join(',', offers)}", At = at }]
                        : [],
                };
                return One(e);
            }
            case "order_created":
            {
                var payload = Payload(root);
                var order = Resource(payload, "orders") ?? throw new MappingException("payload: expected a resource of type orders");
                var a = Attributes(order, "orders");
                var orderId = order.Str("id") ?? throw new MappingException("payload[orders].id: required, expected the order id");
                var state = Resource(payload, "transactions")?.Str("attributes.state");
                var type = state is null or "succeeded" ? EventTypes.OrderPaid : state == "failed" ? EventTypes.PaymentFailed : EventTypes.OrderPending;
                var items = Resources(payload, "order_items").Select(i => new OrderItem
                {
                    ProductId = i.Str("attributes.offer_id") ?? i.Str("relationships.offer.data.id"),
                    Name = i.Str("attributes.title") ?? i.Str("attributes.name"),
                    Quantity = (int)(Attr(() => i.Whole("attributes.quantity"), "order_items", "") ?? 1),
                    Amount = Attr(() => i.Whole("attributes.total_price_in_cents") ?? i.Whole("attributes.price_in_cents"), "order_items", ""),
                }).ToList();
                var e = raw.Event(type, $"{type}:{orderId}", Attr(() => a.Time("created_at"), "orders") ?? raw.ReceivedAt, CustomerSubject(payload, order), providerType: name) with
                {
                    Order = new OrderInfo
                    {
                        OrderId = orderId,
                        Amount = Attr(() => a.Whole("total_price_in_cents"), "orders"),
                        Currency = Currency(a.Str("currency_code"), "payload[orders].attributes.currency_code"),
                        Items = items,
                        RelatedIds = a.Str("order_number") is { } number ? [number] : [],
                    },
                };
                return One(e);
            }
            case "payment_succeeded":
                return new MapResult.Ignored("Kajabi payment_succeeded repeats each charge; the first is the purchase event's order and renewals cannot be told apart from it");
            case "form_submission":
            {
                var payload = Payload(root);
                var submission = Resource(payload, "form_submissions") ?? throw new MappingException("payload: expected a resource of type form_submissions");
                var a = Attributes(submission, "form_submissions");
                var email = a.Str("email");
                var phone = a.Str("mobile_phone_number") ?? a.Str("phone_number");
                if (email is null && phone is null)
                {
                    throw new MappingException("payload[form_submissions].attributes.email: required (or a phone number), expected who submitted the form");
                }
                var formId = submission.Str("relationships.form.data.id");
                var title = formId is null ? null : Resource(payload, "forms", formId)?.Str("attributes.title");
                var form = formId is null ? "kajabi form" : $"kajabi form {formId}";
                var at = Attr(() => a.Time("created_at"), "form_submissions") ?? raw.ReceivedAt;
                var e = raw.Event(EventTypes.Optin, $"{EventTypes.Optin}:form:{formId}:{submission.Str("id")}:{id}", at,
                    Subject.From(email, phone: phone, name: a.Str("name")), providerType: name) with
                {
                    // Without an email the submission still identifies the person by phone, but there is no email consent to record.
                    Consent = email is null ? [] : [new ConsentInfo { Channel = "email", Granted = true, Source = form, At = at }],
                    Tags = title is not null ? [title] : [],
                };
                return One(e);
            }
            case "tag_added":
            case "tag_removed":
            {
                var payload = Payload(root);
                var contact = Resource(payload, "contacts") ?? throw new MappingException("payload: expected a resource of type contacts");
                var a = Attributes(contact, "contacts");
                var tags = Resources(payload, "contact_tags").Select(t => t.Str("attributes.name")).OfType<string>().ToList();
                if (tags.Count == 0) throw new MappingException("payload[contact_tags].attributes.name: required, expected the tag's name");
                var type = name == "tag_added" ? EventTypes.TagAdded : EventTypes.TagRemoved;
                var contactId = contact.Str("id");
                var e = raw.Event(type, $"{type}:{contactId}:{string.Join(',', tags)}:{id}", raw.ReceivedAt,
                    Subject.From(a.Str("email"), contactId, phone: a.Str("phone_number"), name: a.Str("name")), providerType: name) with
                {
                    Tags = tags,
                };
                return One(e);
            }
            case "purchase.created":
            {
                // The legacy outbound webhook: id is the transaction, offer and member are flat objects.
                var offer = root.Str("offer.id") ?? root.Str("offer_id") ?? throw new MappingException("offer.id: required, expected the purchased offer's id");
                var cents = root.Whole("amount_in_cents") ?? root.Whole("payment_transaction.amount_in_cents");
                var at = root.Time("created_at") ?? root.Time("payment_transaction.created_at") ?? raw.ReceivedAt;
                var e = raw.Event(EventTypes.OrderPaid, $"{EventTypes.OrderPaid}:{id}", at, MemberSubject(root), providerType: name) with
                {
                    Order = new OrderInfo
                    {
                        OrderId = id,
                        Amount = cents,
                        Currency = Currency(root.Str("currency") ?? root.Str("payment_transaction.currency"), "currency"),
                        Items = [new OrderItem { ProductId = offer, Name = root.Str("offer.title") ?? root.Str("offer_title"), Amount = cents }],
                    },
                    Consent = root.Bool("opt_in") is true
                        ? [new ConsentInfo { Channel = "email", Granted = true, Source = $"kajabi checkout offer {offer}", At = at }]
                        : [],
                };
                return One(e);
            }
            // Offer grants and revocations are not in Kajabi's documented outbound events; read when they
            // come in the legacy flat shape (offer + member), because a revoked offer is exactly access.revoked.
            case "offer.granted":
            case "offer_granted":
            case "offer.revoked":
            case "offer_revoked":
            {
                var granted = name.EndsWith("granted", StringComparison.Ordinal);
                var type = granted ? EventTypes.AccessGranted : EventTypes.AccessRevoked;
                var offer = root.Str("offer.id") ?? root.Str("offer_id") ?? throw new MappingException("offer.id: required, expected the offer's id");
                var e = raw.Event(type, $"{type}:{offer}:{id}", root.Time("created_at") ?? raw.ReceivedAt, MemberSubject(root), providerType: name) with
                {
                    Access = new AccessInfo
                    {
                        ProductId = offer,
                        ProductName = root.Str("offer.title") ?? root.Str("offer_title"),
                        Reason = granted ? null : root.Str("reason") ?? "revoked",
                    },
                };
                return One(e);
            }
            default:
                return new MapResult.Ignored($"Kajabi event {name} is not one Junction uses");
        }
    }

    // JsonRead names a field relative to the resource; quarantine reasons name it from the body's root.
    private static T Attr<T>(Func<T> read, string type, string inner = "attributes.")
    {
        try
        {
            return read();
        }
        catch (MappingException ex)
        {
            throw new MappingException($"payload[{type}].{inner}{ex.Message}");
        }
    }

    private static MapResult.Mapped One(CanonicalEvent e) => new MapResult.Mapped([e]);

    private static JsonElement Payload(JsonElement root) =>
        root.Path("payload") is { ValueKind: JsonValueKind.Array } p ? p : throw new MappingException("payload: required, expected an array of JSON:API resources");

    private static IEnumerable<JsonElement> Resources(JsonElement payload, string type) =>
        payload.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.Object && r.Str("type") == type);

    private static JsonElement? Resource(JsonElement payload, string type, string? id = null)
    {
        foreach (var r in Resources(payload, type))
        {
            if (id is null || r.Str("id") == id) return r;
        }
        return null;
    }

    private static JsonElement Attributes(JsonElement resource, string type) =>
        resource.Path("attributes") is { ValueKind: JsonValueKind.Object } a ? a : throw new MappingException($"payload[{type}].attributes: required, expected the resource's attributes");

    private static List<string> RelatedIds(JsonElement resource, string relationship) =>
        resource.Path($"relationships.{relationship}.data") switch
        {
            { ValueKind: JsonValueKind.Object } one when one.Str("id") is { } id => [id],
            { ValueKind: JsonValueKind.Array } many => many.EnumerateArray().Select(d => d.Str("id")).OfType<string>().ToList(),
            _ => [],
        };

    // The buyer: the customers resource the purchase or order points at; its contact is the person's id.
    private static Subject CustomerSubject(JsonElement payload, JsonElement owner)
    {
        var customerId = owner.Str("relationships.customer.data.id");
        var customer = Resource(payload, "customers", customerId) ?? Resource(payload, "customers");
        if (customer is not { } c) return new Subject { CustomerId = customerId };
        return Subject.From(c.Str("attributes.email"), c.Str("relationships.contact.data.id") ?? c.Str("id"), name: c.Str("attributes.name"));
    }

    private static Subject MemberSubject(JsonElement root)
    {
        var name = root.Str("member.name") ?? root.Str("member_name");
        if (name is null && (root.Str("member.first_name") ?? root.Str("member_first_name")) is { } first)
        {
            name = $"{first} {root.Str("member.last_name") ?? root.Str("member_last_name")}".Trim();
        }
        return Subject.From(root.Str("member.email") ?? root.Str("member_email"), root.Str("member.id") ?? root.Str("member_id"), name: name);
    }

    private static string? Currency(string? code, string path) =>
        code is null ? null : Money.Currency(code) ?? throw new MappingException($"{path}: expected a three-letter ISO 4217 code; got '{code}'");
}
