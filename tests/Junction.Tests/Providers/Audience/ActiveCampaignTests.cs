using Junction.Canonical;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.ActiveCampaign;
using Junction.Tests.Providers.Payments;

namespace Junction.Tests.Providers.Audience;

/// <summary>ActiveCampaign webhooks (developers.activecampaign.com/page/webhooks): form-encoded POST parameters.</summary>
public sealed class ActiveCampaignTests
{
    private const string Token = "ac_tok_6e2a9c4f1d8b";
    private static readonly ActiveCampaignProvider Provider = new();

    public static string Hook(string type, string dateTime = "2026-11-20T09:15:30-05:00", params (string, string)[] extra) => PaymentsKit.Form(
        [
            ("url", "https://junction.example.com/v1/hooks/ac?token=" + Token),
            ("type", type),
            ("date_time", dateTime),
            ("initiated_by", "admin"),
            ("initiated_from", "admin"),
            ("list", "3"),
            ("contact[id]", "1207"),
            ("contact[email]", "Lin.Chen@Example.com"),
            ("contact[first_name]", "Lin"),
            ("contact[last_name]", "Chen"),
            ("contact[phone]", "+44 20 7946 0958"),
            ("contact[ip]", "203.0.113.7"),
            ("contact[tags]", "lead, webinar-nov"),
            .. extra,
        ]);

    private static MapResult Map(string body) => Provider.Mapper.Map(AudienceKit.Raw(Provider, body, AudienceKit.Form, $"token={Token}"));

    [Fact]
    public void Verify_NeedsTheUrlToken()
    {
        SignatureCheck Check(Dictionary<string, string> q) =>
            Provider.Verify(PaymentsKit.Request(Hook("subscribe"), q), [Token], TimeSpan.FromSeconds(300), PaymentsKit.Received);

        Assert.True(Check(new() { ["token"] = Token }).IsValid);
        Assert.Equal(SignatureFailure.MissingSignature, Check([]).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Check(new() { ["token"] = Token.ToUpperInvariant() }).Failure);
    }

    [Fact]
    public void DedupKey_RepeatsForADuplicate_DiffersForANewChange()
    {
        var key = Provider.DedupKey(PaymentsKit.Request(Hook("contact_tag_added", extra: ("tag", "vip"))));

        Assert.Equal(key, Provider.DedupKey(PaymentsKit.Request(Hook("contact_tag_added", extra: ("tag", "vip")))));
        Assert.NotEqual(key, Provider.DedupKey(PaymentsKit.Request(Hook("contact_tag_added", extra: ("tag", "buyer")))));
        Assert.NotEqual(key, Provider.DedupKey(PaymentsKit.Request(Hook("contact_tag_added", "2026-11-20T09:15:31-05:00", ("tag", "vip")))));
    }

    [Fact]
    public void Subscribe_IsAnOptin_InUtc_KeepingTheOffset()
    {
        var e = PaymentsKit.Single(Map(Hook("subscribe")));

        Assert.Equal(EventTypes.Optin, e.Type);
        Assert.Equal("activecampaign", e.Provider);
        Assert.Equal("subscribe", e.ProviderType);
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 14, 15, 30, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal(TimeSpan.Zero, e.OccurredAt.Offset);
        Assert.Equal("-05:00", e.OriginalTimezone);
        Assert.Equal("lin.chen@example.com", e.Subject.Email);
        Assert.Equal("1207", e.Subject.CustomerId);
        Assert.Equal("Lin Chen", e.Subject.Name);
        Assert.Equal("+442079460958", e.Subject.Phone);
        Assert.Equal(["3"], e.Tags);
        var consent = Assert.Single(e.Consent);
        Assert.Equal("email", consent.Channel);
        Assert.True(consent.Granted);
        Assert.Equal("activecampaign list 3", consent.Source);
        Assert.Equal(e.OccurredAt, consent.At);
    }

    [Fact]
    public void Unsubscribe_WithdrawsEmailConsent_SmsUnsubWithdrawsSms()
    {
        var email = PaymentsKit.Single(Map(Hook("unsubscribe", extra: [("campaign[id]", "12"), ("unsubscribe[reason]", "Too many emails")])));
        var sms = PaymentsKit.Single(Map(Hook("sms_unsub")));

        Assert.Equal(EventTypes.Unsubscribe, email.Type);
        Assert.Equal("email", Assert.Single(email.Consent).Channel);
        Assert.False(email.Consent[0].Granted);
        Assert.Equal(EventTypes.Unsubscribe, sms.Type);
        Assert.Equal("sms", Assert.Single(sms.Consent).Channel);
        Assert.NotEqual(email.Id, sms.Id);
    }

    [Fact]
    public void TagAddedAndRemoved_CarryTheTag()
    {
        var added = PaymentsKit.Single(Map(Hook("contact_tag_added", extra: ("tag", "paid:course-x"))));
        var removed = PaymentsKit.Single(Map(Hook("contact_tag_removed", extra: ("tag", "paid:course-x"))));

        Assert.Equal(EventTypes.TagAdded, added.Type);
        Assert.Equal(["paid:course-x"], added.Tags);
        Assert.Equal(EventTypes.TagRemoved, removed.Type);
        Assert.Equal(["paid:course-x"], removed.Tags);
        Assert.Equal("lin.chen@example.com", removed.Subject.Email);
    }

    [Fact]
    public void TimeWithoutOffset_IsReadAsUtc()
    {
        var e = PaymentsKit.Single(Map(Hook("subscribe", "2026-11-20 14:15:30")));

        Assert.Equal(new DateTimeOffset(2026, 11, 20, 14, 15, 30, TimeSpan.Zero), e.OccurredAt);
        Assert.Null(e.OriginalTimezone);
    }

    [Fact]
    public void UpdateAndUnknownTypes_AreIgnored()
    {
        Assert.IsType<MapResult.Ignored>(Map(Hook("update")));
        var unknown = Assert.IsType<MapResult.Ignored>(Map(Hook("deal_add")));
        Assert.Equal("ActiveCampaign deal_add is not an event Junction uses", unknown.Reason);
        Assert.Equal("deal_add", unknown.ProviderType);
    }

    [Fact]
    public void Malformed_IsQuarantinedNamingTheField()
    {
        var badTime = Assert.IsType<MapResult.Quarantined>(Map(Hook("subscribe", "next tuesday")));
        var noTag = Assert.IsType<MapResult.Quarantined>(Map(Hook("contact_tag_added")));

        Assert.StartsWith("date_time: expected", badTime.Reason, StringComparison.Ordinal);
        Assert.StartsWith("tag: required", noTag.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ContactWithoutEmail_KeepsItsId_AndIsNotQuarantined()
    {
        var body = Hook("contact_tag_added", extra: ("tag", "vip")).Replace("contact%5Bemail%5D", "x", StringComparison.Ordinal)
            .Replace("contact[email]=Lin.Chen%40Example.com", "contact[email]=", StringComparison.Ordinal);

        var e = PaymentsKit.Single(Map(body));

        Assert.Null(e.Subject.Email);
        Assert.Equal("1207", e.Subject.CustomerId);
    }
}
