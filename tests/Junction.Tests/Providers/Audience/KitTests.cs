using Junction.Canonical;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.Kit;
using Junction.Tests.Providers.Payments;

namespace Junction.Tests.Providers.Audience;

/// <summary>
/// Kit webhook endpoints (developers.kit.com/webhooks: delivery-format, event-types, verifying-signatures)
/// and legacy rule webhooks (developers.kit.com/api-reference/v3/webhooks), shaped as documented.
/// </summary>
public sealed class KitTests
{
    private const string Secret = "kit_whsec_4f1c2a9e7b3d5608";
    private const string NewSecret = "kit_whsec_next_0a1b2c3d4e5f";
    private const string Token = "kit_legacy_tok_7d2e9a4c1b";
    private static readonly KitProvider Provider = new();
    private static readonly long Now = PaymentsKit.Received.ToUnixTimeSeconds();

    public static string Subscriber(long id = 987654, string email = "Ada@Example.com", string state = "active", string firstName = "Ada") => $$"""
        {"id":{{id}},"first_name":"{{firstName}}","email_address":"{{email}}","state":"{{state}}","created_at":"2026-07-29T14:32:10Z",
         "added_at":"2026-11-20T14:32:10Z","fields":{"company":"Kit"},
         "referrer":"https://creator.example.com/free-guide?utm_source=instagram&utm_medium=social&utm_campaign=bf26",
         "referrer_utm_parameters":{"source":"instagram","medium":"social","campaign":"bf26","term":"","content":""} }
        """;

    public static string Event(string id, string type, string data, string created = "2026-11-20T14:32:10Z") =>
        $$"""{"id":"{{id}}","type":"{{type}}","created":"{{created}}","data":{{data}}}""";

    public static string Delivery(long deliveryId, params string[] events) =>
        $$"""{"delivery_id":{{deliveryId}},"events":[{{string.Join(",", events)}}]}""";

    public static string TagBatch(string type = "subscriber.tag_added") => Delivery(123456,
        Event("9c2e1f3a-6b7d-4e8f-a1b2-c3d4e5f60718", type, $$"""{"subscriber":{{Subscriber(1001, "ada@example.com")}},"tag":{"id":4451,"name":"paid:course-x"} }"""),
        Event("1b7e4c2d-0a9f-4e3b-8c6d-5f2a1e0b9c87", type, $$"""{"subscriber":{{Subscriber(1002, "grace@example.com", firstName: "Grace")}},"tag":{"id":4451,"name":"paid:course-x"} }"""),
        Event("e3d2c1b0-a9f8-4e7d-b6c5-d4e3f2a1b0c9", type, $$"""{"subscriber":{{Subscriber(1003, "alan@example.com", firstName: "Alan")}},"tag":{"id":4451,"name":"paid:course-x"} }"""));

    private static MapResult MapSigned(string body) =>
        Provider.Mapper.Map(AudienceKit.Raw(Provider, body, headers: ("X-Kit-Signature", AudienceKit.Kit(Now, body, Secret))));

    private static MapResult MapLegacy(string body, string query) =>
        Provider.Mapper.Map(AudienceKit.Raw(Provider, body, query: query));

    private static SignatureCheck VerifySigned(string header, string body, params string[] secrets) =>
        Provider.Verify(PaymentsKit.Request(body, null, ("X-Kit-Signature", header)), secrets, TimeSpan.FromSeconds(300), PaymentsKit.Received);

    [Fact]
    public void Verify_AcceptsTheKitSignature_AndEitherSecretWhileRotating()
    {
        var body = TagBatch();
        Assert.True(VerifySigned(AudienceKit.Kit(Now, body, Secret), body, Secret).IsValid);
        Assert.True(VerifySigned(AudienceKit.Kit(Now, body, Secret, NewSecret), body, NewSecret).IsValid);
        Assert.True(VerifySigned(AudienceKit.Kit(Now, body, NewSecret), body, Secret, NewSecret).IsValid);
    }

    [Fact]
    public void Verify_RefusesAForgedTamperedStaleOrMalformedSignature()
    {
        var body = TagBatch();
        Assert.Equal(SignatureFailure.BadSignature, VerifySigned(AudienceKit.Kit(Now, body, "kit_whsec_attacker_guess"), body, Secret).Failure);
        Assert.Equal(SignatureFailure.BadSignature, VerifySigned(AudienceKit.Kit(Now, body, Secret), body.Replace("ada@", "eve@", StringComparison.Ordinal), Secret).Failure);
        // The timestamp is signed: moving it breaks the signature; an old but genuine one is stale.
        Assert.Equal(SignatureFailure.BadSignature, VerifySigned(AudienceKit.Kit(Now, body, Secret).Replace($"t={Now}", $"t={Now + 1}", StringComparison.Ordinal), body, Secret).Failure);
        Assert.Equal(SignatureFailure.StaleTimestamp, VerifySigned(AudienceKit.Kit(Now - 600, body, Secret), body, Secret).Failure);
        Assert.Equal(SignatureFailure.MalformedSignature, VerifySigned("v1=abc", body, Secret).Failure);
    }

    [Fact]
    public void Verify_LegacyWebhookWithoutSignature_NeedsTheUrlToken()
    {
        var body = $$"""{"subscriber":{{Subscriber()}}}""";
        SignatureCheck Check(Dictionary<string, string> q) => Provider.Verify(PaymentsKit.Request(body, q), [Token], TimeSpan.FromSeconds(300), PaymentsKit.Received);

        Assert.True(Check(new() { ["token"] = Token }).IsValid);
        Assert.Equal(SignatureFailure.MissingSignature, Check([]).Failure);
        Assert.Equal("header X-Kit-Signature is missing, and so is query parameter token (for Kit's unsigned legacy webhooks)", Check([]).Detail);
        Assert.Equal(SignatureFailure.BadSignature, Check(new() { ["token"] = Token[..^1] }).Failure);
    }

    [Fact]
    public void Verify_ASignedRequestIsJudgedByItsSignature_NotRescuedByAToken()
    {
        var body = TagBatch();
        var request = PaymentsKit.Request(body, new Dictionary<string, string> { ["token"] = Secret }, ("X-Kit-Signature", AudienceKit.Kit(Now, body, "wrong_secret_0000000")));

        Assert.Equal(SignatureFailure.BadSignature, Provider.Verify(request, [Secret], TimeSpan.FromSeconds(300), PaymentsKit.Received).Failure);
    }

    [Fact]
    public void DedupKey_IsTheDeliveryId_ARetryRepeatsIt()
    {
        var body = TagBatch();
        Assert.Equal("delivery:123456", Provider.DedupKey(PaymentsKit.Request(body, null, ("X-Kit-Signature", AudienceKit.Kit(Now, body, Secret)))));
        Assert.Equal("delivery:123456", Provider.DedupKey(PaymentsKit.Request(body, null, ("X-Kit-Signature", AudienceKit.Kit(Now + 120, body, Secret)))));
    }

    [Fact]
    public void DedupKey_Legacy_SeparatesRulesThatPostTheSameBody()
    {
        var body = $$"""{"subscriber":{{Subscriber()}}}""";
        string? Key(string query) => Provider.DedupKey(PaymentsKit.Request(body, AudienceKit.Query(query)));

        var activate = Key("token=t&event=subscriber.subscriber_activate");
        var tagA = Key("token=t&event=subscriber.tag_add&tag_id=1");
        var tagB = Key("token=t&event=subscriber.tag_add&tag_id=2");

        Assert.NotNull(activate);
        Assert.Equal(activate, Key("token=t&event=subscriber.subscriber_activate"));
        Assert.Equal(3, new[] { activate, tagA, tagB }.Distinct().Count());
    }

    [Fact]
    public void TagBatchOfThree_IsThreeTagAddedEvents_EachWithItsOwnFactAndId()
    {
        var events = PaymentsKit.Events(MapSigned(TagBatch()));

        Assert.Equal(3, events.Count);
        Assert.All(events, e => Assert.Equal(EventTypes.TagAdded, e.Type));
        Assert.All(events, e => Assert.Equal(["paid:course-x"], e.Tags));
        Assert.All(events, e => Assert.Equal("subscriber.tag_added", e.ProviderType));
        Assert.Equal(["ada@example.com", "grace@example.com", "alan@example.com"], events.Select(e => e.Subject.Email));
        Assert.Equal(["1001", "1002", "1003"], events.Select(e => e.Subject.CustomerId));
        Assert.Equal(3, events.Select(e => e.Id).Distinct().Count());
        Assert.Equal(CanonicalEvent.MakeId("kit-main", "subscriber.tag_added:9c2e1f3a-6b7d-4e8f-a1b2-c3d4e5f60718"), events[0].Id);
        Assert.All(events, e => Assert.Equal(new DateTimeOffset(2026, 11, 20, 14, 32, 10, TimeSpan.Zero), e.OccurredAt));
    }

    [Fact]
    public void TagRemoved_IsTagRemoved()
    {
        var events = PaymentsKit.Events(MapSigned(TagBatch("subscriber.tag_removed")));

        Assert.All(events, e => Assert.Equal(EventTypes.TagRemoved, e.Type));
        Assert.All(events, e => Assert.Equal(["paid:course-x"], e.Tags));
    }

    [Fact]
    public void Activated_IsAConfirmedOptin_FieldByField()
    {
        var body = Delivery(9, Event("5a0c6a7e-1111-4c1e-9a55-0f4a6e2b7c10", "subscriber.activated", $$"""{"subscriber":{{Subscriber()}}}""", "2026-11-20T09:32:10-05:00"));

        var e = PaymentsKit.Single(MapSigned(body));

        Assert.Equal(EventTypes.Optin, e.Type);
        Assert.Equal("kit", e.Provider);
        Assert.Equal("subscriber.activated", e.ProviderType);
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 14, 32, 10, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal("-05:00", e.OriginalTimezone);
        Assert.Equal("ada@example.com", e.Subject.Email);
        Assert.Equal("Ada@Example.com", e.Subject.EmailRaw);
        Assert.Equal("987654", e.Subject.CustomerId);
        Assert.Equal("Ada", e.Subject.Name);
        var consent = Assert.Single(e.Consent);
        Assert.Equal("email", consent.Channel);
        Assert.True(consent.Granted);
        Assert.True(consent.Confirmed);
        Assert.Equal("kit", consent.Source);
        Assert.Equal(e.OccurredAt, consent.At);
        Assert.Equal("instagram", e.Attribution!.UtmSource);
        Assert.Equal("social", e.Attribution.UtmMedium);
        Assert.Equal("bf26", e.Attribution.UtmCampaign);
        Assert.Equal("https://creator.example.com/free-guide?utm_source=instagram&utm_medium=social&utm_campaign=bf26", e.Attribution.LandingPage);
    }

    [Fact]
    public void SubscribedToForm_IsAnOptinFromThatForm()
    {
        var body = Delivery(10, Event("7f6e5d4c-2222-4b3a-8c9d-0e1f2a3b4c5d", "subscriber.subscribed_to_form",
            $$"""{"subscriber":{{Subscriber(state: "inactive")}},"form":{"id":5016504,"name":"Free guide","type":"embed"} }"""));

        var e = PaymentsKit.Single(MapSigned(body));

        Assert.Equal(EventTypes.Optin, e.Type);
        Assert.Equal(["Free guide"], e.Tags);
        var consent = Assert.Single(e.Consent);
        Assert.Equal("kit form 5016504", consent.Source);
        Assert.True(consent.Granted);
        Assert.False(consent.Confirmed); // inactive: the double opt-in email is not confirmed yet
    }

    [Fact]
    public void CreatedButInactive_GrantsNothingYet()
    {
        var body = Delivery(11, Event("0a0b0c0d-3333-4e4f-9a9b-9c9d9e9f0a1b", "subscriber.created", $$"""{"subscriber":{{Subscriber(state: "inactive")}}}"""));

        var ignored = Assert.IsType<MapResult.Ignored>(MapSigned(body));

        Assert.Contains("inactive", ignored.Reason, StringComparison.Ordinal);
        Assert.Equal("subscriber.created", ignored.ProviderType);
    }

    [Theory]
    [InlineData("subscriber.unsubscribed", "cancelled", EventTypes.Unsubscribe)]
    [InlineData("subscriber.complained", "complained", EventTypes.SpamComplaint)]
    public void UnsubscribeAndComplaint_WithdrawEmailConsent(string type, string state, string expected)
    {
        var body = Delivery(12, Event("4d3c2b1a-4444-4f5e-8d7c-6b5a4f3e2d1c", type, $$"""{"subscriber":{{Subscriber(state: state)}}}"""));

        var e = PaymentsKit.Single(MapSigned(body));

        Assert.Equal(expected, e.Type);
        var consent = Assert.Single(e.Consent);
        Assert.Equal("email", consent.Channel);
        Assert.False(consent.Granted);
        Assert.Equal("kit", consent.Source);
        Assert.Equal("ada@example.com", e.Subject.Email);
    }

    [Fact]
    public void Bounced_IsIgnored_ABounceIsNotConsent()
    {
        var body = Delivery(13, Event("4d3c2b1a-5555-4f5e-8d7c-6b5a4f3e2d1c", "subscriber.bounced", $$"""{"subscriber":{{Subscriber(state: "bounced")}}}"""));

        Assert.IsType<MapResult.Ignored>(MapSigned(body));
    }

    [Fact]
    public void UnknownEventType_IsIgnoredWithTheReason_NotQuarantined()
    {
        var body = Delivery(14, Event("4d3c2b1a-6666-4f5e-8d7c-6b5a4f3e2d1c", "custom_field.created", """{"custom_field":{"id":1,"label":"Company"}}"""));

        var ignored = Assert.IsType<MapResult.Ignored>(MapSigned(body));

        Assert.Equal("Kit custom_field.created is not an event Junction uses", ignored.Reason);
        Assert.Equal("custom_field.created", ignored.ProviderType);
    }

    [Fact]
    public void EventWithoutId_QuarantinesTheDelivery_NamingTheField()
    {
        var body = Delivery(15,
            Event("4d3c2b1a-7777-4f5e-8d7c-6b5a4f3e2d1c", "subscriber.activated", $$"""{"subscriber":{{Subscriber()}}}"""),
            $$"""{"type":"subscriber.activated","created":"2026-11-20T14:32:10Z","data":{"subscriber":{{Subscriber(2)}} } }""");

        var q = Assert.IsType<MapResult.Quarantined>(MapSigned(body));

        Assert.StartsWith("events[1].id: required", q.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingSubscriber_QuarantinesNamingTheField()
    {
        var body = Delivery(16, Event("4d3c2b1a-8888-4f5e-8d7c-6b5a4f3e2d1c", "subscriber.unsubscribed", "{}"));

        var q = Assert.IsType<MapResult.Quarantined>(MapSigned(body));

        Assert.StartsWith("events[0].data.subscriber: required", q.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Legacy_TagAdd_TakesTheTagIdFromTheHookUrl()
    {
        var e = PaymentsKit.Single(MapLegacy($$"""{"subscriber":{{Subscriber()}}}""", $"token={Token}&event=subscriber.tag_add&tag_id=4451"));

        Assert.Equal(EventTypes.TagAdded, e.Type);
        Assert.Equal("subscriber.tag_add", e.ProviderType);
        Assert.Equal(["4451"], e.Tags);
        Assert.Equal("ada@example.com", e.Subject.Email);
        Assert.Equal(PaymentsKit.Received, e.OccurredAt); // the legacy body carries no time
    }

    [Fact]
    public void Legacy_TagAddWithoutTagId_IsQuarantinedNamingTheUrlParameter()
    {
        var q = Assert.IsType<MapResult.Quarantined>(MapLegacy($$"""{"subscriber":{{Subscriber()}}}""", $"token={Token}&event=tag_add"));

        Assert.StartsWith("tag_id: required in the hook URL", q.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Legacy_FormSubscribe_IsAnOptinFromTheForm()
    {
        var e = PaymentsKit.Single(MapLegacy($$"""{"subscriber":{{Subscriber()}}}""", $"token={Token}&event=subscriber.form_subscribe&form_id=5016504"));

        Assert.Equal(EventTypes.Optin, e.Type);
        Assert.Equal("kit form 5016504", Assert.Single(e.Consent).Source);
        Assert.Equal(["5016504"], e.Tags);
    }

    [Fact]
    public void Legacy_BatchOfThreeSubscribers_IsThreeEvents_ByEachOnesState()
    {
        var body = $$"""{"subscribers":[{{Subscriber(1, "a@example.com")}},{{Subscriber(2, "b@example.com", "cancelled")}},{{Subscriber(3, "c@example.com", "complained")}}]}""";

        var events = PaymentsKit.Events(MapLegacy(body, $"token={Token}"));

        Assert.Equal([EventTypes.Optin, EventTypes.Unsubscribe, EventTypes.SpamComplaint], events.Select(e => e.Type));
        Assert.Equal(["a@example.com", "b@example.com", "c@example.com"], events.Select(e => e.Subject.Email));
        Assert.Equal(3, events.Select(e => e.Id).Distinct().Count());
    }

    [Fact]
    public void Legacy_BareArrayWithTheRuleEvent_IsOneEventPerSubscriber()
    {
        var body = $$"""[{"subscriber":{{Subscriber(1, "a@example.com")}}},{"subscriber":{{Subscriber(2, "b@example.com")}}},{"subscriber":{{Subscriber(3, "c@example.com")}}}]""";

        var events = PaymentsKit.Events(MapLegacy(body, $"token={Token}&event=subscriber.subscriber_unsubscribe"));

        Assert.Equal(3, events.Count);
        Assert.All(events, e => Assert.Equal(EventTypes.Unsubscribe, e.Type));
    }

    [Fact]
    public void Legacy_OptinRuleForAnUnsubscribedAddress_GrantsNothing()
    {
        Assert.IsType<MapResult.Ignored>(MapLegacy($$"""{"subscriber":{{Subscriber(state: "cancelled")}}}""", $"token={Token}&event=subscriber.subscriber_activate"));
    }

    [Fact]
    public void Legacy_PurchaseCreate_IsOrderPaid_InMajorUnitsOfItsCurrency()
    {
        // The v3 docs' purchase payload, verbatim in shape.
        const string body = """
            {"id":8,"transaction_id":"123-abcd-456-efgh","status":"paid","email_address":"crashoverride@hackers.com","currency":"JPY",
             "transaction_time":"2018-03-17T11:28:04Z","subtotal":20.0,"shipping":2.0,"discount":3.0,"tax":2.0,"total":21.0,
             "products":[{"unit_price":5.0,"quantity":2,"sku":"7890-ijkl","name":"Floppy Disk (512k)"},
                         {"unit_price":10.0,"quantity":1,"sku":"mnop-1234","name":"Telephone Cord (data)"}]}
            """;

        var e = PaymentsKit.Single(MapLegacy(body, $"token={Token}&event=purchase.purchase_create"));

        Assert.Equal(EventTypes.OrderPaid, e.Type);
        Assert.Equal(new DateTimeOffset(2018, 3, 17, 11, 28, 4, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal("crashoverride@hackers.com", e.Subject.Email);
        Assert.Equal("123-abcd-456-efgh", e.Order!.OrderId);
        Assert.Equal(21, e.Order.Amount); // JPY has no minor unit
        Assert.Equal("JPY", e.Order.Currency);
        Assert.Equal(["8"], e.Order.RelatedIds);
        Assert.Equal(2, e.Order.Items.Count);
        Assert.Equal("7890-ijkl", e.Order.Items[0].Sku);
        Assert.Equal(2, e.Order.Items[0].Quantity);
        Assert.Equal(10, e.Order.Items[0].Amount);
    }

    [Fact]
    public void NotJson_IsQuarantined()
    {
        var q = Assert.IsType<MapResult.Quarantined>(MapLegacy("subscriber=1", $"token={Token}"));

        Assert.StartsWith("body: expected Kit's JSON", q.Reason, StringComparison.Ordinal);
    }
}
