using Junction.Canonical;
using Junction.Dispatch;
using Junction.Identity;
using Junction.State;
using static Junction.Tests.State.StateKit;

namespace Junction.Tests.State;

/// <summary>What a source anyone can post to (a landing-page form) may change in a person's state.</summary>
public sealed class UnauthenticatedSourceFoldTests
{
    private const string Form = "landing";

    private static Policy WithForm(bool doubleOptIn = false, bool allowWithdraw = false, params string[] allowedTags) => Rules with
    {
        Unauthenticated = new Dictionary<string, UnauthenticatedSource>(StringComparer.Ordinal)
        {
            [Form] = new()
            {
                AllowedTags = allowedTags.ToHashSet(StringComparer.Ordinal),
                DoubleOptIn = doubleOptIn,
                AllowWithdraw = allowWithdraw,
            },
        },
    };

    private static CanonicalEvent FormPost(string id, double hours, bool? consent, params string[] tags) =>
        Optin(id, hours, source: Form, provider: "form", tags: tags) with
        {
            Consent = consent is { } granted ? [new ConsentInfo { Channel = "email", Granted = granted, Source = "form " + Form }] : [],
        };

    [Fact]
    public void FormTag_GrantedByAProduct_IsDrift_AndNotApplied_EvenWhenListedAsAllowed()
    {
        var s = Fold([FormPost("f1", 1, true, "paid:course-pro")], At(2), WithForm(allowedTags: "paid:course-pro"));

        Assert.DoesNotContain("paid:course-pro", s.Tags);
        var drift = Assert.Single(s.TagDrift);
        Assert.Equal("paid:course-pro", drift.Tag);
        Assert.Equal(TagDriftReasons.ProductGranted, drift.Reason);
        Assert.Empty(s.Entitlements);
    }

    [Fact]
    public void FormTag_NotInAllowedTags_IsDrift_AndAnAllowedOneIsApplied()
    {
        var s = Fold([FormPost("f1", 1, true, "vip", "winback")], At(2), WithForm(allowedTags: "winback"));

        Assert.Equal(["winback"], s.Tags);
        var drift = Assert.Single(s.TagDrift);
        Assert.Equal(("vip", TagDriftReasons.NotAllowedForSource), (drift.Tag, drift.Reason));
    }

    [Fact]
    public void ProductTag_FromAnEmailPlatformEcho_IsDrift_SoARefundStillRemovesIt()
    {
        var s = Fold([Paid("p1", "ord_1", 1), Tag("t1", 2, "paid:course-pro"), Refund("r1", "ord_1", 3, 4900)], At(4));

        Assert.DoesNotContain("paid:course-pro", s.Tags);
        Assert.Equal(TagDriftReasons.ProductGranted, Assert.Single(s.TagDrift).Reason);
    }

    [Fact]
    public void FormPost_WithoutConsent_IsNoConsentChange()
    {
        var first = Fold([FormPost("f1", 1, consent: null)], At(5), WithForm());
        var granted = Fold([FormPost("f1", 1, consent: true), FormPost("f2", 2, consent: null)], At(5), WithForm());

        Assert.Empty(first.Consent);
        Assert.True(Assert.Single(granted.Consent).Granted);
    }

    [Fact]
    public void TestModeNo_WithdrawsATestPersonsConsent_ButNeverARealPersons()
    {
        // A smoke run's cleanup: every event of the person is test mode, so there is no real subscriber to protect.
        var smoke = Fold([FormPost("f1", 1, true) with { TestMode = true }, FormPost("f2", 2, false) with { TestMode = true }], At(3), WithForm());
        Assert.True(smoke.Test);
        Assert.False(Assert.Single(smoke.Consent).Granted);

        // Anyone can tick test_mode: on a person with one live event it withdraws nothing and makes them no test person.
        var real = Fold([FormPost("f1", 1, true), FormPost("f2", 2, false) with { TestMode = true }], At(3), WithForm());
        Assert.False(real.Test);
        Assert.True(Assert.Single(real.Consent).Granted);
        Assert.DoesNotContain("\"test\"", real.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void FormPost_ExplicitNo_WithdrawsOnlyWhereTheSourceAllowsIt()
    {
        var events = new[] { FormPost("f1", 1, consent: true), FormPost("f2", 2, consent: false) };

        var refused = Fold(events, At(5), WithForm());
        var allowed = Fold(events, At(5), WithForm(allowWithdraw: true));

        Assert.True(Assert.Single(refused.Consent).Granted);
        Assert.Contains(refused.IgnoredWrites, w => w.EventId == "f2" && w.Field == Ownership.SubscriptionPreferences);
        Assert.False(Assert.Single(allowed.Consent).Granted);
    }

    [Fact]
    public void DoubleOptIn_FormConsentIsUnconfirmed_UntilTheEmailPlatformConfirms_AndALaterFormPostDoesNotUndoIt()
    {
        var policy = WithForm(doubleOptIn: true);
        var pending = Fold([FormPost("f1", 1, consent: true)], At(5), policy);
        var events = new[] { FormPost("f1", 1, consent: true), Optin("k1", 2), FormPost("f2", 3, consent: true) };
        var confirmed = Fold(events, At(5), policy);
        var reversed = Fold(events.Reverse(), At(5), policy);

        var unconfirmed = Assert.Single(pending.Consent);
        Assert.True(unconfirmed.Granted);
        Assert.False(unconfirmed.Confirmed);
        var c = Assert.Single(confirmed.Consent);
        Assert.True(c.Granted);
        Assert.NotEqual(false, c.Confirmed);
        Assert.Equal("k1", c.EventId);
        Assert.Equal(confirmed.Digest(), reversed.Digest());
    }

    [Fact]
    public void AFormEvent_WhoseSourceIsNoLongerConfigured_StillGetsTheStrictestRules()
    {
        var policy = Rules with { UnauthenticatedProviders = new HashSet<string>(StringComparer.Ordinal) { "form" } };
        var events = new[]
        {
            FormPost("f1", 1, consent: true, "vip") with { Source = "old-landing" },
            FormPost("f2", 2, consent: null) with { Source = "old-landing" },
            FormPost("f3", 3, consent: false) with { Source = "old-landing" },
        };

        var s = Fold(events, At(5), policy);

        Assert.Empty(s.Tags);
        Assert.Equal(TagDriftReasons.NotAllowedForSource, Assert.Single(s.TagDrift).Reason);
        var consent = Assert.Single(s.Consent);
        Assert.True(consent.Granted);
        Assert.Equal("f1", consent.EventId);
    }

    [Fact]
    public void Planner_HoldsAnUnconfirmedConsentAsPending_NotSubscribed()
    {
        var policy = WithForm(doubleOptIn: true);
        var destination = new DestinationConfig { Id = "mc", Type = DestinationTypes.Mailchimp, Traits = DestinationTypes.TraitsOf(DestinationTypes.Mailchimp), BaseUrl = new Uri("http://127.0.0.1/"), RateLimit = 10 };
        var identity = new PersonIdentity
        {
            Id = "p_1", FirstSeenAt = At(1), PrimaryEmail = "ada@example.com",
            Identifiers = [new IdentifierEntry(IdentifierKey.Email("ada@example.com"), "ada@example.com", Form, At(1), "f1")],
        };

        var pending = DeliveryPlanner.Desired(destination, identity, Fold([FormPost("f1", 1, consent: true)], At(5), policy))!;
        var confirmed = DeliveryPlanner.Desired(destination, identity, Fold([FormPost("f1", 1, consent: true), Optin("k1", 2)], At(5), policy))!;

        Assert.True(pending.Pending);
        Assert.False(pending.Subscribed);
        Assert.True(DeliveryPlanner.Holds(destination, pending));
        Assert.True(DeliveryPlanner.DeserializeDesired(DeliveryPlanner.SerializeDesired(pending)).Pending);
        Assert.True(confirmed.Subscribed);
        Assert.False(confirmed.Pending);
    }
}
