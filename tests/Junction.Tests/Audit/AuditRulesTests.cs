using Junction.Audit;
using Junction.Dispatch;
using Junction.Identity;
using Junction.State;

namespace Junction.Tests.Audit;

/// <summary>The five audit points as a pure function of ledger, desired state and read-back.</summary>
public sealed class AuditRulesTests
{
    private static readonly DateTimeOffset To = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset From = To.AddDays(-7);
    private static readonly DateTimeOffset PaidAt = To.AddDays(-2);

    private static readonly Policy Rules = new()
    {
        // Every provider's declared kind, as the config loader and JunctionConfig hand them to the fold.
        Ownership = Ownership.For(Junction.Providers.ProviderRegistry.Kinds),
        Tags = new HashSet<string>(StringComparer.Ordinal) { "paid:course-pro", "winback" },
        Products =
        [
            new ProductPolicy { Id = "course-pro", Match = [new ProductMatch("stripe-main", Price: "price_pro")], TagsWhileActive = ["paid:course-pro"] },
        ],
    };

    private static readonly DestinationConfig Kit = new()
    {
        Id = "kit-main", Type = DestinationTypes.Kit, Traits = DestinationTypes.TraitsOf(DestinationTypes.Kit), BaseUrl = new Uri("https://api.kit.com"), RateLimit = 2,
        Tags = Map(("paid:course-pro", "Customer - Course Pro"), ("winback", "Winback")),
    };

    private static readonly DestinationConfig Teachable = new()
    {
        Id = "school", Type = DestinationTypes.Teachable, Traits = DestinationTypes.TraitsOf(DestinationTypes.Teachable), BaseUrl = new Uri("https://developers.teachable.com"), RateLimit = 6,
        Courses = Map(("course-pro", "2150843")),
    };

    [Fact]
    public void CleanCustomer_HasNoFindingAtAnyPoint_AndEveryPointCountsWhatItChecked()
    {
        var ada = Customer("p_ada", "ada@example.com");
        var result = Audit([ada], Kit_(Contact("ada@example.com", ObservedStatus.Subscribed, tags: ["Customer - Course Pro"])),
            School(Contact("ada@example.com", ObservedStatus.None, courses: ["2150843"])), optins: [Optin("p_ada", PaidAt.AddDays(-1))]);

        Assert.All(result.Points, p => Assert.Empty(p.Findings));
        Assert.Equal([1, 1, 1, 2, 0], result.Points.Select(p => p.Checked));
        Assert.Equal(["capture_misrouting", "payment_attribution_gaps", "paid_without_access", "duplicate_or_delayed_tags", "refund_leaks"], result.Points.Select(p => p.Point.Name));
        Assert.Empty(result.Heals);
    }

    [Fact]
    public void PaidTagRemovedByHandAtKit_IsPaidWithoutAccess_HealedByAResyncAgainstWhatKitHolds_WithoutTouchingHandSetTags()
    {
        var ada = Customer("p_ada", "ada@example.com");
        var result = Audit([ada], Kit_(Contact("ada@example.com", ObservedStatus.Subscribed, tags: ["VIP (set by hand)"])),
            School(Contact("ada@example.com", ObservedStatus.None, courses: ["2150843"])), optins: [Optin("p_ada", PaidAt.AddDays(-1))]);

        var point = Point(result, AuditPoints.PaidWithoutAccess);
        var finding = Assert.Single(point.Findings);
        Assert.Equal(("tag_missing", "kit-main", "ord_1", "tag 'Customer - Course Pro'", "tag absent", HealActions.Resync),
            (finding.Kind, finding.Destination, finding.OrderId, finding.Expected, finding.Observed, finding.HealAction));
        Assert.Equal((1, 1, 1.0), (point.Checked, point.Mismatches, point.Rate));
        Assert.True(point.OverThreshold);
        Assert.Equal(4900, point.RevenueAtRisk["USD"]);
        Assert.Equal(Severities.High, point.Point.Severity);

        var heal = Assert.Single(result.Heals);
        Assert.Equal((HealActions.Resync, "kit-main", "p_ada"), (heal.Action, heal.Destination, heal.PersonId));
        // The baseline is what Kit holds of what Junction manages: the hand-set tag is not in it, so nothing removes it.
        Assert.Empty(heal.Observed!.Tags);
        Assert.True(heal.Observed.Subscribed);
    }

    [Fact]
    public void RefundedCustomer_StillEnrolledAndTagged_IsARefundLeak_AtEachDestination_CountedOnce()
    {
        var bo = Customer("p_bo", "bo@example.com", refunded: true);
        var result = Audit([bo], Kit_(Contact("bo@example.com", ObservedStatus.Subscribed, tags: ["Customer - Course Pro"])),
            School(Contact("bo@example.com", ObservedStatus.None, courses: ["2150843"])));

        var point = Point(result, AuditPoints.RefundLeaks);
        Assert.Equal(["course_leak:school", "tag_leak:kit-main"], point.Findings.Select(f => $"{f.Kind}:{f.Destination}").Order(StringComparer.Ordinal));
        Assert.Equal((1, 1), (point.Checked, point.Mismatches));
        Assert.Equal(4900, point.RevenueAtRisk["USD"]);
        Assert.Empty(Point(result, AuditPoints.PaidWithoutAccess).Findings);

        var kitHeal = result.Heals.Single(h => h.Destination == "kit-main");
        var schoolHeal = result.Heals.Single(h => h.Destination == "school");
        Assert.Equal(["Customer - Course Pro"], kitHeal.Observed!.Tags);   // so the connector removes it
        Assert.Equal(["2150843"], schoolHeal.Observed!.Courses);          // and unenrolls
    }

    [Fact]
    public void RefundedOrder_IsNoLeak_WhenAnotherPaidOrderStillGrantsTheProduct()
    {
        var bo = Customer("p_bo", "bo@example.com", refunded: true) is var p
            ? p with { State = p.State with { Orders = [.. p.State.Orders, Order("ord_2", OrderStatuses.Paid)], Entitlements = [Active()], Tags = ["paid:course-pro"] } }
            : throw new InvalidOperationException();
        var result = Audit([bo], Kit_(Contact("bo@example.com", ObservedStatus.Subscribed, tags: ["Customer - Course Pro"])),
            School(Contact("bo@example.com", ObservedStatus.None, courses: ["2150843"])));

        Assert.Empty(Point(result, AuditPoints.RefundLeaks).Findings);
    }

    [Fact]
    public void OptinThatNeverReachedTheEmailPlatform_IsCaptureMisrouting_ButAnUnsubscribeThereIsNotUndone()
    {
        var cy = Lead("p_cy", "cy@example.com");
        var di = Lead("p_di", "di@example.com");
        var result = Audit([cy, di], Kit_(Contact("di@example.com", ObservedStatus.Unsubscribed)), School(),
            optins: [Optin("p_cy", PaidAt), Optin("p_di", PaidAt)]);

        var point = Point(result, AuditPoints.CaptureMisrouting);
        Assert.Equal((2, 2), (point.Checked, point.Mismatches));
        var cyFinding = point.Findings.Single(f => f.PersonId == "p_cy");
        var diFinding = point.Findings.Single(f => f.PersonId == "p_di");
        Assert.Equal(("absent", HealActions.Resync), (cyFinding.Observed, cyFinding.HealAction));
        Assert.Equal((ObservedStatus.Unsubscribed, HealActions.Review), (diFinding.Observed, diFinding.HealAction));
        Assert.Equal(["p_cy"], result.Heals.Select(h => h.PersonId));
    }

    [Fact]
    public void OptedInLeadHeldUnconfirmedAtKit_WithNoDoubleOptInPending_IsCaptureMisrouting_ForReview()
    {
        // A purchase synced before the opt-in arrived creates the buyer inactive at Kit; the later
        // opt-in cannot activate them (Kit's upsert keeps the state), so they are never mailed.
        var fay = Lead("p_fay", "fay@example.com");
        var result = Audit([fay], Kit_(Contact("fay@example.com", ObservedStatus.Pending)), School(), optins: [Optin("p_fay", PaidAt)]);

        var finding = Assert.Single(Point(result, AuditPoints.CaptureMisrouting).Findings);
        Assert.Equal(("not_subscribed", ObservedStatus.Pending, HealActions.Review), (finding.Kind, finding.Observed, finding.HealAction));
        Assert.Empty(result.Heals);
    }

    [Fact]
    public void OptinWhoseConsentWasNotRecorded_IsCaptureMisrouting()
    {
        var ed = Lead("p_ed", "ed@example.com") is var p ? p with { State = p.State with { Consent = [] } } : throw new InvalidOperationException();
        var finding = Assert.Single(Point(Audit([ed], Kit_(), School(), optins: [Optin("p_ed", PaidAt)]), AuditPoints.CaptureMisrouting).Findings);
        Assert.Equal(("consent_not_recorded", null), (finding.Kind, finding.Destination));
    }

    [Fact]
    public void PaymentTheProviderHasAndTheLedgerLacks_IsAMissedWebhook_HealedByBackfill_AndAMissedRefundToo()
    {
        var ada = Customer("p_ada", "ada@example.com");
        var payments = new PaymentReadBack
        {
            Source = "stripe-main",
            Payments =
            [
                new ObservedPayment { Source = "stripe-main", OrderId = "ord_1", Status = OrderStatuses.Refunded, Amount = 4900, Currency = "usd", At = PaidAt },
                new ObservedPayment { Source = "stripe-main", OrderId = "ord_lost", Status = OrderStatuses.Paid, Amount = 9900, Currency = "usd", At = PaidAt },
                new ObservedPayment { Source = "stripe-main", OrderId = "ord_test", Status = OrderStatuses.Paid, Amount = 100, Currency = "usd", At = PaidAt, TestMode = true },
                new ObservedPayment { Source = "stripe-main", OrderId = "ord_old", Status = OrderStatuses.Paid, Amount = 100, Currency = "usd", At = From.AddDays(-1) },
            ],
        };
        var result = Audit([ada], Kit_(Contact("ada@example.com", ObservedStatus.Subscribed, tags: ["Customer - Course Pro"])),
            School(Contact("ada@example.com", ObservedStatus.None, courses: ["2150843"])), optins: [Optin("p_ada", PaidAt.AddDays(-1))], payments: payments);

        var point = Point(result, AuditPoints.PaymentAttributionGaps);
        Assert.Equal((3, 2), (point.Checked, point.Mismatches)); // ada's order, and two provider payments in the window (test mode never counts)
        var missed = point.Findings.Single(f => f.Kind == "missed_payment");
        Assert.Equal(("ord_lost", null, HealActions.Backfill), (missed.OrderId, missed.PersonId, missed.HealAction));
        var refund = point.Findings.Single(f => f.Kind == "missed_refund");
        Assert.Equal(("ord_1", "p_ada"), (refund.OrderId, refund.PersonId));
        Assert.Equal(4900 + 9900, point.RevenueAtRisk["USD"]);
        Assert.Equal(["ord_1", "ord_lost"], result.Heals.Where(h => h.Action == HealActions.Backfill).Select(h => h.OrderId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void PaidOrderWithoutFirstTouchOrPriorLead_IsAnAttributionGap()
    {
        var fay = Customer("p_fay", "fay@example.com") is var p
            ? p with { State = p.State with { Attribution = new AttributionState() }, FirstLeadAt = null }
            : throw new InvalidOperationException();
        var point = Point(Audit([fay], Kit_(Contact("fay@example.com", ObservedStatus.Subscribed, tags: ["Customer - Course Pro"])),
            School(Contact("fay@example.com", ObservedStatus.None, courses: ["2150843"]))), AuditPoints.PaymentAttributionGaps);

        Assert.Equal(["no_first_touch", "no_prior_lead"], point.Findings.Select(f => f.Kind));
        Assert.Equal((1, 1), (point.Checked, point.Mismatches));
    }

    [Fact]
    public void LateTag_DuplicateContacts_AndUnmanagedDrift_AreDuplicateOrDelayedTags()
    {
        var gus = Customer("p_gus", "gus@example.com") is var p
            ? p with
            {
                State = p.State with { Emails = ["gus@example.com", "gus@work.example"] },
            }
            : throw new InvalidOperationException();
        var kit = Kit_(
            Contact("gus@example.com", ObservedStatus.Subscribed, tags: ["Customer - Course Pro", "Winback"], taggedAt: PaidAt.AddHours(2)),
            Contact("gus@work.example", ObservedStatus.Subscribed, tags: ["Customer - Course Pro"]));
        var result = Audit([gus], kit, School(Contact("gus@example.com", ObservedStatus.None, courses: ["2150843"])), optins: [Optin("p_gus", PaidAt.AddDays(-1))],
            sends: [new TagSends("kit-main", "p_gus", "Customer - Course Pro", "ord_1", 2)]);

        var point = Point(result, AuditPoints.DuplicateOrDelayedTags);
        Assert.Equal(["delayed_tag", "duplicate_contacts", "duplicate_tag_add", "tag_extra"], point.Findings.Select(f => f.Kind).Order(StringComparer.Ordinal));
        Assert.Equal("after 2h", point.Findings.Single(f => f.Kind == "delayed_tag").Observed);
        Assert.Equal((2, 1), (point.Checked, point.Mismatches)); // (gus, kit) and (gus, school); one of them off
        // Only the unmanaged-by-product drift is healed; the late tag is already there.
        Assert.Equal(["kit-main"], result.Heals.Select(h => h.Destination));
    }

    [Fact]
    public void AcceptedFinding_IsNotReportedAgain_AndThresholdsArePerPoint()
    {
        var ada = Customer("p_ada", "ada@example.com");
        var input = Input([ada], Kit_(Contact("ada@example.com", ObservedStatus.Subscribed)), School(Contact("ada@example.com", ObservedStatus.None, courses: ["2150843"])),
            optins: [Optin("p_ada", PaidAt.AddDays(-1))]);
        var first = AuditRules.Run(input);
        var fingerprint = Assert.Single(Point(first, AuditPoints.PaidWithoutAccess).Findings).Fingerprint;

        var again = AuditRules.Run(input with
        {
            Accepted = new HashSet<string>(StringComparer.Ordinal) { fingerprint },
            Settings = AuditSettings.Default with { Thresholds = new Dictionary<string, double>(StringComparer.Ordinal) { ["paid_without_access"] = 0.005 } },
        });
        var point = Point(again, AuditPoints.PaidWithoutAccess);
        Assert.Empty(point.Findings);
        Assert.Equal((1, 0, 0.005), (point.Checked, point.Mismatches, point.Threshold));
        Assert.False(point.OverThreshold);
        Assert.Empty(again.Heals);
    }

    [Fact]
    public void TestPeople_NeverCount()
    {
        var smoke = Customer("p_smoke", "smoke+1@creator.example") with { Test = true };
        var result = Audit([smoke], Kit_(), School(), optins: [Optin("p_smoke", PaidAt)]);
        Assert.All(result.Points, p => Assert.Equal(0, p.Checked));
    }

    [Fact]
    public void DestinationWithoutReadBack_IsNotCompared_ButJunctionsOwnChecksStillRun()
    {
        var ada = Customer("p_ada", "ada@example.com") is var p
            ? p with { State = p.State with { Entitlements = [], Tags = [] } }
            : throw new InvalidOperationException();
        var result = AuditRules.Run(Input([ada], null, null, optins: [Optin("p_ada", PaidAt.AddDays(-1))]));
        var finding = Assert.Single(Point(result, AuditPoints.PaidWithoutAccess).Findings);
        Assert.Equal(("entitlement_inactive", null, HealActions.Review), (finding.Kind, finding.Destination, finding.HealAction));
    }

    // ---- builders ----

    private static PointReport Point(AuditResult result, int number) => result.Points.Single(p => p.Point.Number == number);

    private static AuditResult Audit(IReadOnlyList<AuditPerson> people, DestinationReadBack? kit, DestinationReadBack? school,
        IReadOnlyList<OptinFact>? optins = null, PaymentReadBack? payments = null, IReadOnlyList<TagSends>? sends = null) =>
        AuditRules.Run(Input(people, kit, school, optins, payments, sends));

    private static AuditInput Input(IReadOnlyList<AuditPerson> people, DestinationReadBack? kit, DestinationReadBack? school,
        IReadOnlyList<OptinFact>? optins = null, PaymentReadBack? payments = null, IReadOnlyList<TagSends>? sends = null)
    {
        var readBacks = new Dictionary<string, DestinationReadBack>(StringComparer.Ordinal);
        if (kit is not null) readBacks[Kit.Id] = kit;
        if (school is not null) readBacks[Teachable.Id] = school;
        var paymentReads = new Dictionary<string, PaymentReadBack>(StringComparer.Ordinal);
        if (payments is not null) paymentReads[payments.Source] = payments;
        return new AuditInput
        {
            From = From, To = To, Policy = Rules, Settings = AuditSettings.Default, Destinations = [Kit, Teachable], People = people,
            Optins = optins ?? [], ReadBacks = readBacks, Payments = paymentReads, TagSends = sends ?? [],
        };
    }

    private static DestinationReadBack Kit_(params ObservedContact[] contacts) => new()
    {
        Destination = Kit.Id, CoversSubscriptions = true, Contacts = contacts.ToDictionary(c => c.Email, StringComparer.Ordinal),
    };

    private static DestinationReadBack School(params ObservedContact[] contacts) => new()
    {
        Destination = Teachable.Id, Contacts = contacts.ToDictionary(c => c.Email, StringComparer.Ordinal),
    };

    private static ObservedContact Contact(string email, string status, string[]? tags = null, string[]? courses = null, DateTimeOffset? taggedAt = null) => new()
    {
        Email = email,
        Status = status,
        Tags = (tags ?? []).ToDictionary(t => t, _ => taggedAt ?? (DateTimeOffset?)PaidAt.AddMinutes(1), StringComparer.Ordinal),
        Courses = (courses ?? []).ToDictionary(c => c, _ => (DateTimeOffset?)PaidAt.AddMinutes(1), StringComparer.Ordinal),
    };

    private static OptinFact Optin(string personId, DateTimeOffset at) => new(personId, "ce_" + personId, "landing", at, ConsentGranted: true);

    private static AuditPerson Lead(string id, string email) => new()
    {
        PersonId = id,
        Identity = Identity(id, email),
        FirstLeadAt = PaidAt.AddDays(-1),
        State = new PersonState
        {
            Emails = [email],
            PrimaryEmail = email,
            Consent = [new ConsentState { Channel = "email", Granted = true, At = PaidAt, EventId = "ce_optin" }],
        },
    };

    private static AuditPerson Customer(string id, string email, bool refunded = false)
    {
        var lead = Lead(id, email);
        return lead with
        {
            State = lead.State with
            {
                Orders = [Order("ord_1", refunded ? OrderStatuses.Refunded : OrderStatuses.Paid)],
                Entitlements = [refunded ? new EntitlementState { Product = "course-pro", State = EntitlementStates.Revoked, GrantedAt = PaidAt, RevokedAt = PaidAt.AddHours(3) } : Active()],
                Tags = refunded ? [] : ["paid:course-pro"],
                Attribution = new AttributionState { FirstTouch = new TouchState { UtmSource = "ig", At = PaidAt.AddDays(-1), Source = "landing", EventId = "ce_optin" } },
            },
        };
    }

    private static EntitlementState Active() => new() { Product = "course-pro", State = EntitlementStates.Active, GrantedAt = PaidAt };

    private static OrderState Order(string id, string status) => new()
    {
        OrderId = id, Source = "stripe-main", Status = status, Amount = 4900, Currency = "usd", PaidAt = PaidAt,
        Refunded = status == OrderStatuses.Refunded ? 4900 : 0, Items = [new OrderItemState(null, null, "price_pro", "Course Pro", 1, 4900)],
    };

    private static PersonIdentity Identity(string id, string email) => new()
    {
        Id = id, FirstSeenAt = PaidAt.AddDays(-1), PrimaryEmail = email,
        Identifiers = [new IdentifierEntry(new IdentifierKey(IdentifierType.Email, email), email, "landing", PaidAt.AddDays(-1), null)],
    };

    private static Dictionary<string, string> Map(params (string Key, string Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
}
