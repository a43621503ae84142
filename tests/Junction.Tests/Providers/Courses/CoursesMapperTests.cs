using Junction.Canonical;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.Kajabi;
using Junction.Integrations.Teachable;
using Junction.Integrations.Thinkific;
using Junction.Tests.Providers.Payments;

namespace Junction.Tests.Providers.Courses;

/// <summary>Verification, dedup keys and the mapping decisions of the course platforms, one behaviour each.</summary>
public sealed class CoursesMapperTests
{
    private const string ThinkificKey = "thinkific_api_key_0123456789abcd";
    private static readonly ThinkificProvider Thinkific = new();
    private static readonly TeachableProvider Teachable = new();
    private static readonly KajabiProvider Kajabi = new();

    private static SignatureCheck VerifyThinkific(string body, string signature, params string[] secrets) =>
        Thinkific.Verify(PaymentsKit.Request(body, null, ("X-Thinkific-Hmac-Sha256", signature)), secrets, TimeSpan.FromMinutes(5), PaymentsKit.Received);

    [Fact]
    public void Thinkific_AcceptsTheHexHmacOfTheRawBody_WithAnyConfiguredKey_InEitherCase()
    {
        var body = CoursesFixtures.ThinkificOrder();
        var signature = CoursesFixtures.ThinkificSignature(ThinkificKey, body);

        Assert.True(VerifyThinkific(body, signature, ThinkificKey).IsValid);
        Assert.True(VerifyThinkific(body, signature.ToUpperInvariant(), "old_key_0123456789abcdef", ThinkificKey).IsValid);
    }

    [Fact]
    public void Thinkific_RefusesATamperedBody_ABase64Signature_AndAMissingHeader()
    {
        var body = CoursesFixtures.ThinkificOrder();
        var signature = CoursesFixtures.ThinkificSignature(ThinkificKey, body);

        Assert.Equal(SignatureFailure.BadSignature, VerifyThinkific(body + " ", signature, ThinkificKey).Failure);
        Assert.Equal(SignatureFailure.MalformedSignature, VerifyThinkific(body, Convert.ToBase64String(Convert.FromHexString(signature)), ThinkificKey).Failure);
        var missing = Thinkific.Verify(PaymentsKit.Request(body), [ThinkificKey], TimeSpan.FromMinutes(5), PaymentsKit.Received);
        Assert.Equal(SignatureFailure.MissingSignature, missing.Failure);
    }

    [Fact]
    public void Thinkific_DedupKey_IsTheEnvelopeId()
    {
        Assert.Equal("20180126172320940835610", Thinkific.DedupKey(PaymentsKit.Request(CoursesFixtures.ThinkificOrder())));
        Assert.Null(Thinkific.DedupKey(PaymentsKit.Request("not json")));
    }

    private static MapResult MapThinkific(string body) => Thinkific.Mapper.Map(PaymentsKit.Raw("thinkific", body));

    [Fact]
    public void Thinkific_SubscribedLead_IsAnOptin_AndAnUnsubscribedLeadIsIgnored()
    {
        const string Lead = """{"id": "33", "email": "Lead@Example.com", "first_name": "Lee", "last_name": "Dee", "subscribed": SUB}""";
        var optin = PaymentsKit.Single(MapThinkific(CoursesFixtures.ThinkificEnvelope("e1", "lead", "created", "2026-11-20T10:00:00Z", Lead.Replace("SUB", "true", StringComparison.Ordinal))));

        Assert.Equal(EventTypes.Optin, optin.Type);
        Assert.Equal("lead@example.com", optin.Subject.Email);
        Assert.Equal("Lee Dee", optin.Subject.Name);
        var consent = Assert.Single(optin.Consent);
        Assert.True(consent.Granted);
        Assert.Equal("email", consent.Channel);
        Assert.Equal("thinkific lead", consent.Source);

        var ignored = MapThinkific(CoursesFixtures.ThinkificEnvelope("e2", "lead", "created", "2026-11-20T10:00:00Z", Lead.Replace("SUB", "false", StringComparison.Ordinal)));
        Assert.IsType<MapResult.Ignored>(ignored);
    }

    [Fact]
    public void Thinkific_SignupCompletionAndPlainUserUpdates_AreIgnoredWithAReason()
    {
        var signup = MapThinkific(CoursesFixtures.ThinkificEnvelope("e3", "user", "signup", "2026-11-20T10:00:00Z", """{"id": 3, "email": "n@example.com"}"""));
        var completed = MapThinkific(CoursesFixtures.ThinkificEnrollment("completed", "e4"));
        var updated = MapThinkific(CoursesFixtures.ThinkificEnvelope("e5", "user", "updated", "2026-11-20T10:00:00Z", """{"id": 3, "email": "n@example.com"}"""));

        Assert.Contains("consent", Assert.IsType<MapResult.Ignored>(signup).Reason, StringComparison.Ordinal);
        Assert.Contains("progress", Assert.IsType<MapResult.Ignored>(completed).Reason, StringComparison.Ordinal);
        Assert.Contains("previous email", Assert.IsType<MapResult.Ignored>(updated).Reason, StringComparison.Ordinal);
        Assert.Equal("enrollment.completed", completed.ProviderType);
    }

    [Fact]
    public void Thinkific_UserUpdatedCarryingThePreviousEmail_IsEmailChanged()
    {
        var changed = PaymentsKit.Single(MapThinkific(CoursesFixtures.ThinkificEnvelope("e6", "user", "updated", "2026-11-20T10:00:00Z",
            """{"id": 3, "email": "New@Example.com", "previous_email": "old@example.com", "first_name": "N"}""")));

        Assert.Equal(EventTypes.EmailChanged, changed.Type);
        Assert.Equal("new@example.com", changed.Subject.Email);
        Assert.Equal("old@example.com", changed.Subject.PreviousEmail);
        Assert.Equal("3", changed.Subject.CustomerId);
    }

    [Fact]
    public void Thinkific_RefundGivenInMajorUnits_IsConvertedExactly()
    {
        var body = CoursesFixtures.ThinkificRefund().Replace("\"refunded_amount\": 2000", "\"refunded_amount\": \"20.50\"", StringComparison.Ordinal);

        var refunded = PaymentsKit.Single(MapThinkific(body));

        Assert.Equal(2050, refunded.Order!.RefundAmount);
    }

    [Fact]
    public void Thinkific_MalformedPayloadTime_IsQuarantinedNamingThePayloadField()
    {
        var body = CoursesFixtures.ThinkificEnrollment().Replace("\"expiry_date\": \"2027-11-20T14:18:10.767Z\"", "\"expiry_date\": \"next year\"", StringComparison.Ordinal);

        var result = Assert.IsType<MapResult.Quarantined>(MapThinkific(body));

        Assert.StartsWith("payload.expiry_date:", result.Reason, StringComparison.Ordinal);
        Assert.Equal("enrollment.created", result.ProviderType);
    }

    [Fact]
    public void Thinkific_BodyThatIsNotJson_IsQuarantinedNamingTheBody()
    {
        var result = Assert.IsType<MapResult.Quarantined>(MapThinkific("{ not json"));
        Assert.StartsWith("body:", result.Reason, StringComparison.Ordinal);
    }

    private static MapResult MapTeachable(string body) => Teachable.Mapper.Map(PaymentsKit.Raw("teachable", body));

    [Fact]
    public void Teachable_AnArrayOfEvents_MapsEachOne_AndTheDedupKeyNamesThemAll()
    {
        var body = "[" + CoursesFixtures.TeachableSale().Trim().TrimStart('[').TrimEnd(']') + "," + CoursesFixtures.TeachableEnrollment() + "]";

        var events = PaymentsKit.Events(MapTeachable(body));

        Assert.Equal([EventTypes.OrderPaid, EventTypes.AccessGranted], events.Select(e => e.Type));
        Assert.Equal("Sale.created:18900212,Enrollment.created:5501", Teachable.DedupKey(PaymentsKit.Request(body)));
        Assert.Equal("Enrollment.created:5501", Teachable.DedupKey(PaymentsKit.Request(CoursesFixtures.TeachableEnrollment())));
    }

    [Fact]
    public void Teachable_RefundedTransaction_NamesItsSaleByNestedSaleToo()
    {
        var body = CoursesFixtures.TeachableRefund().Replace("\"sale_id\": 18900212,", "\"sale\": {\"id\": 18900212},", StringComparison.Ordinal);

        var refunded = PaymentsKit.Single(MapTeachable(body));

        Assert.Equal(EventTypes.OrderRefunded, refunded.Type);
        Assert.Equal("18900212", refunded.Order!.OrderId);
        Assert.Equal("88001", refunded.Order.RefundId);
    }

    [Fact]
    public void Teachable_MarketingEmailEvents_AreOptinAndUnsubscribe()
    {
        const string User = """
            {"type": "TYPE", "id": 71, "livemode": false, "created": "2026-11-20T10:00:00+00:00",
             "object": {"id": 15747624, "email": "webhook@mailinator.com", "name": "Webhooktest", "role": "student"}}
            """;
        var optin = PaymentsKit.Single(MapTeachable(User.Replace("TYPE", "User.subscribe_to_marketing_emails", StringComparison.Ordinal)));
        var unsubscribe = PaymentsKit.Single(MapTeachable(User.Replace("TYPE", "User.unsubscribe_from_marketing_emails", StringComparison.Ordinal)));

        Assert.Equal(EventTypes.Optin, optin.Type);
        Assert.True(Assert.Single(optin.Consent).Granted);
        Assert.Equal("15747624", optin.Subject.CustomerId);
        Assert.True(optin.TestMode);
        Assert.Equal(EventTypes.Unsubscribe, unsubscribe.Type);
        Assert.False(Assert.Single(unsubscribe.Consent).Granted);
    }

    [Fact]
    public void Teachable_CompletionAndTransactions_AreIgnored_AndShortTokensAreRefused()
    {
        Assert.IsType<MapResult.Ignored>(MapTeachable(CoursesFixtures.TeachableEnrollment("Enrollment.completed")));
        Assert.IsType<MapResult.Ignored>(MapTeachable(CoursesFixtures.TeachableRefund().Replace("Transaction.refunded", "Transaction.created", StringComparison.Ordinal)));
        Assert.NotNull(Teachable.ValidateSecret("short"));
        Assert.NotNull(Teachable.ValidateSecret("has spaces in the token value"));
        Assert.Null(Teachable.ValidateSecret("tch_tok_0123456789abcdef"));
    }

    [Fact]
    public void Teachable_EventWithoutType_IsQuarantinedNamingItsPositionInTheArray()
    {
        var result = Assert.IsType<MapResult.Quarantined>(MapTeachable("""[{"id": 1, "object": {}}]"""));
        Assert.StartsWith("[0].type:", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Teachable_MalformedAmount_IsQuarantinedNamingTheObjectFieldAndItsPosition()
    {
        var body = CoursesFixtures.TeachableSale().Replace("\"final_price\": 7900", "\"final_price\": \"79 dollars\"", StringComparison.Ordinal);

        var result = Assert.IsType<MapResult.Quarantined>(MapTeachable(body));

        Assert.StartsWith("[0].object.final_price:", result.Reason, StringComparison.Ordinal);
    }

    private static MapResult MapKajabi(string body) => Kajabi.Mapper.Map(PaymentsKit.Raw("kajabi", body));

    [Fact]
    public void Kajabi_LegacyPurchaseCreated_IsOrderPaid_ForTheOffer_ByTheMember()
    {
        const string Body = """
            {"id": 9912, "event": "purchase.created", "offer": {"id": 2150, "title": "Creator Academy"},
             "member": {"id": 4401, "email": "Member@Example.com", "name": "Mia Member", "first_name": "Mia", "last_name": "Member"},
             "opt_in": false}
            """;

        var paid = PaymentsKit.Single(MapKajabi(Body));

        Assert.Equal(EventTypes.OrderPaid, paid.Type);
        Assert.Equal("9912", paid.Order!.OrderId);
        Assert.Equal("2150", Assert.Single(paid.Order.Items).ProductId);
        Assert.Equal("member@example.com", paid.Subject.Email);
        Assert.Equal("4401", paid.Subject.CustomerId);
        Assert.Empty(paid.Consent);
        Assert.Equal(PaymentsKit.Received, paid.OccurredAt);
        Assert.Equal("purchase.created:9912", Kajabi.DedupKey(PaymentsKit.Request(Body)));
    }

    [Fact]
    public void Kajabi_MalformedPurchaseTime_IsQuarantinedNamingTheResourceField()
    {
        var body = CoursesFixtures.KajabiPurchase().Replace("\"created_at\": \"2026-11-20T16:59:27.580Z\", \"updated_at\"", "\"created_at\": \"yesterday\", \"updated_at\"", StringComparison.Ordinal);

        var result = Assert.IsType<MapResult.Quarantined>(MapKajabi(body));

        Assert.StartsWith("payload[purchases].attributes.created_at:", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Kajabi_PurchaseWithoutOptIn_CarriesNoConsent()
    {
        var paid = PaymentsKit.Single(MapKajabi(CoursesFixtures.KajabiPurchase(optIn: false)));
        Assert.Empty(paid.Consent);
    }

    [Fact]
    public void Kajabi_FormSubmissionWithOnlyAPhone_KeepsThePhone_AndRecordsNoEmailConsent()
    {
        var body = CoursesFixtures.KajabiFormSubmission().Replace("\"email\": \"jane@example.com\",", "", StringComparison.Ordinal);

        var optin = PaymentsKit.Single(MapKajabi(body));

        Assert.Equal(EventTypes.Optin, optin.Type);
        Assert.Null(optin.Subject.Email);
        Assert.Equal("+12125550100", optin.Subject.Phone);
        Assert.Empty(optin.Consent);
    }

    [Fact]
    public void Kajabi_FormSubmissionWithNoEmailOrPhone_IsQuarantinedNamingTheField()
    {
        var body = CoursesFixtures.KajabiFormSubmission().Replace("\"email\": \"jane@example.com\",", "", StringComparison.Ordinal)
            .Replace("\"phone_number\": \"+1 212 555 0100\",", "", StringComparison.Ordinal);

        var result = Assert.IsType<MapResult.Quarantined>(MapKajabi(body));

        Assert.Contains("payload[form_submissions].attributes.email", result.Reason, StringComparison.Ordinal);
        Assert.Equal("form_submission", result.ProviderType);
    }
}
