using Junction.Canonical;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.Mailchimp;
using Junction.Tests.Providers.Payments;

namespace Junction.Tests.Providers.Audience;

/// <summary>Mailchimp audience webhooks (sync-audience-data-webhooks guide), form-encoded with bracketed keys as Mailchimp posts them.</summary>
public sealed class MailchimpTests
{
    private const string Token = "mc_tok_3b9f1d7a2c5e";
    private static readonly MailchimpProvider Provider = new();

    public static string Subscribe(string firedAt = "2009-03-26 21:35:57") => PaymentsKit.Form(
        ("type", "subscribe"),
        ("fired_at", firedAt),
        ("data[id]", "8a25ff1d98"),
        ("data[list_id]", "a6b5da1054"),
        ("data[email]", "Api@MailChimp.com"),
        ("data[email_type]", "html"),
        ("data[merges][EMAIL]", "api@mailchimp.com"),
        ("data[merges][FNAME]", "Mailchimp"),
        ("data[merges][LNAME]", "API"),
        ("data[merges][INTERESTS]", "Group1,Group2"),
        ("data[merges][PHONE]", "+1 415 555 0100"),
        ("data[ip_opt]", "10.20.10.30"),
        ("data[ip_signup]", "10.20.10.30"));

    public static string Unsubscribe(string reason = "manual", string action = "unsub") => PaymentsKit.Form(
        ("type", "unsubscribe"),
        ("fired_at", "2009-03-26 21:40:57"),
        ("data[action]", action),
        ("data[reason]", reason),
        ("data[id]", "8a25ff1d98"),
        ("data[list_id]", "a6b5da1054"),
        ("data[email]", "api+unsub@mailchimp.com"),
        ("data[email_type]", "html"),
        ("data[merges][EMAIL]", "api+unsub@mailchimp.com"),
        ("data[merges][FNAME]", "Mailchimp"),
        ("data[merges][LNAME]", "API"),
        ("data[ip_opt]", "10.20.10.30"),
        ("data[campaign_id]", "cb398d21d2"));

    public static string Cleaned(string reason) => PaymentsKit.Form(
        ("type", "cleaned"),
        ("fired_at", "2009-03-26 22:01:00"),
        ("data[list_id]", "a6b5da1054"),
        ("data[campaign_id]", "4fjk2ma9xd"),
        ("data[reason]", reason),
        ("data[email]", "api+cleaned@mailchimp.com"));

    public static string Upemail() => PaymentsKit.Form(
        ("type", "upemail"),
        ("fired_at", "2009-03-26 22:15:09"),
        ("data[list_id]", "a6b5da1054"),
        ("data[new_id]", "51aa6d5b89"),
        ("data[new_email]", "api+new@mailchimp.com"),
        ("data[old_email]", "API+old@mailchimp.com"));

    private static MapResult Map(string body) => Provider.Mapper.Map(AudienceKit.Raw(Provider, body, AudienceKit.Form, $"token={Token}"));

    [Fact]
    public void Verify_NeedsTheUrlToken()
    {
        SignatureCheck Check(Dictionary<string, string> q) =>
            Provider.Verify(PaymentsKit.Request(Subscribe(), q), [Token], TimeSpan.FromSeconds(300), PaymentsKit.Received);

        Assert.True(Check(new() { ["token"] = Token }).IsValid);
        Assert.Equal(SignatureFailure.MissingSignature, Check([]).Failure);
        Assert.Equal(SignatureFailure.BadSignature, Check(new() { ["token"] = "mc_tok_not_the_right_one" }).Failure);
        Assert.Null(Provider.ValidateSecret(Token));
        Assert.NotNull(Provider.ValidateSecret("short"));
    }

    [Fact]
    public void UrlCheck_AnswersTheValidationGetWith200()
    {
        var reply = Provider.AnswerGet(new Junction.Config.SourceConfig { Id = "mc", Provider = "mailchimp", Secrets = [Token] });

        Assert.Equal(200, reply.Status);
    }

    [Fact]
    public void DedupKey_IsTypeFiredAtListAndMember_ARetryRepeatsIt()
    {
        var key = Provider.DedupKey(PaymentsKit.Request(Subscribe()));

        Assert.Equal("subscribe:2009-03-26 21:35:57:a6b5da1054:8a25ff1d98", key);
        Assert.Equal(key, Provider.DedupKey(PaymentsKit.Request(Subscribe())));
        Assert.NotEqual(key, Provider.DedupKey(PaymentsKit.Request(Subscribe("2009-03-27 08:00:00"))));
    }

    [Fact]
    public void Subscribe_IsAnOptin_FieldByField()
    {
        var e = PaymentsKit.Single(Map(Subscribe()));

        Assert.Equal(EventTypes.Optin, e.Type);
        Assert.Equal("mailchimp", e.Provider);
        Assert.Equal("subscribe", e.ProviderType);
        Assert.Equal(new DateTimeOffset(2009, 3, 26, 21, 35, 57, TimeSpan.Zero), e.OccurredAt);
        Assert.Null(e.OriginalTimezone);
        Assert.Equal("api@mailchimp.com", e.Subject.Email);
        Assert.Equal("Api@MailChimp.com", e.Subject.EmailRaw);
        Assert.Equal("8a25ff1d98", e.Subject.CustomerId);
        Assert.Equal("Mailchimp API", e.Subject.Name);
        Assert.Equal("+14155550100", e.Subject.Phone);
        Assert.Equal(["a6b5da1054"], e.Tags);
        var consent = Assert.Single(e.Consent);
        Assert.Equal("email", consent.Channel);
        Assert.True(consent.Granted);
        Assert.True(consent.Confirmed);
        Assert.Equal("mailchimp list a6b5da1054", consent.Source);
        Assert.Equal(e.OccurredAt, consent.At);
    }

    [Fact]
    public void Unsubscribe_WithdrawsConsent()
    {
        var e = PaymentsKit.Single(Map(Unsubscribe()));

        Assert.Equal(EventTypes.Unsubscribe, e.Type);
        Assert.Equal("api+unsub@mailchimp.com", e.Subject.Email);
        var consent = Assert.Single(e.Consent);
        Assert.False(consent.Granted);
        Assert.Equal("mailchimp list a6b5da1054", consent.Source);
        Assert.Equal(new DateTimeOffset(2009, 3, 26, 21, 40, 57, TimeSpan.Zero), consent.At);
    }

    [Fact]
    public void UnsubscribeForAbuse_IsASpamComplaint()
    {
        var e = PaymentsKit.Single(Map(Unsubscribe("abuse")));

        Assert.Equal(EventTypes.SpamComplaint, e.Type);
        Assert.False(Assert.Single(e.Consent).Granted);
    }

    [Fact]
    public void CleanedForAbuse_IsASpamComplaint_AHardBounceIsIgnored()
    {
        var abuse = PaymentsKit.Single(Map(Cleaned("abuse")));
        var hard = Assert.IsType<MapResult.Ignored>(Map(Cleaned("hard")));

        Assert.Equal(EventTypes.SpamComplaint, abuse.Type);
        Assert.Equal("api+cleaned@mailchimp.com", abuse.Subject.Email);
        Assert.Contains("hard", hard.Reason, StringComparison.Ordinal);
        Assert.Equal("cleaned", hard.ProviderType);
    }

    [Fact]
    public void Upemail_IsEmailChanged_WithThePreviousAddress()
    {
        var e = PaymentsKit.Single(Map(Upemail()));

        Assert.Equal(EventTypes.EmailChanged, e.Type);
        Assert.Equal("api+new@mailchimp.com", e.Subject.Email);
        Assert.Equal("api+old@mailchimp.com", e.Subject.PreviousEmail);
        Assert.Equal("51aa6d5b89", e.Subject.CustomerId);
        Assert.Equal(new DateTimeOffset(2009, 3, 26, 22, 15, 9, TimeSpan.Zero), e.OccurredAt);
    }

    [Fact]
    public void ProfileCampaignAndUnknownTypes_AreIgnored_NotQuarantined()
    {
        Assert.IsType<MapResult.Ignored>(Map(Subscribe().Replace("type=subscribe", "type=profile", StringComparison.Ordinal)));
        Assert.IsType<MapResult.Ignored>(Map(PaymentsKit.Form(("type", "campaign"), ("fired_at", "2009-03-26 21:31:21"), ("data[id]", "5aa2102003"), ("data[status]", "sent"))));
        var unknown = Assert.IsType<MapResult.Ignored>(Map(Subscribe().Replace("type=subscribe", "type=merge_field", StringComparison.Ordinal)));
        Assert.Equal("Mailchimp merge_field is not an event Junction uses", unknown.Reason);
    }

    [Fact]
    public void MalformedFiredAt_OrMissingType_IsQuarantinedNamingTheField()
    {
        var badTime = Assert.IsType<MapResult.Quarantined>(Map(Subscribe("yesterday")));
        var noType = Assert.IsType<MapResult.Quarantined>(Map(PaymentsKit.Form(("fired_at", "2009-03-26 21:35:57"))));
        var noNewEmail = Assert.IsType<MapResult.Quarantined>(Map(PaymentsKit.Form(("type", "upemail"), ("fired_at", "2009-03-26 22:15:09"), ("data[old_email]", "a@b.c"))));

        Assert.StartsWith("fired_at: expected", badTime.Reason, StringComparison.Ordinal);
        Assert.StartsWith("type: required", noType.Reason, StringComparison.Ordinal);
        Assert.StartsWith("data[new_email]: required", noNewEmail.Reason, StringComparison.Ordinal);
    }
}
