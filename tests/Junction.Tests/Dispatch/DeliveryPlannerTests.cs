using Junction.Canonical;
using Junction.Config;
using Junction.Dispatch;
using Junction.Identity;
using Junction.State;
using static Junction.Tests.State.StateKit;

namespace Junction.Tests.Dispatch;

public sealed class DeliveryPlannerTests
{
    private static readonly DestinationConfig Kit = new()
    {
        Id = "kit-main",
        Type = DestinationTypes.Kit, Traits = DestinationTypes.TraitsOf(DestinationTypes.Kit),
        BaseUrl = new Uri("https://api.kit.com"),
        RateLimit = 2,
        Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["paid:course-pro"] = "Customer - Course Pro", ["vip"] = "VIP" },
        Fields = new Dictionary<string, string>(StringComparer.Ordinal) { ["ltv_usd"] = "lifetime_value", ["buyer_status"] = "buyer_status", ["order_count"] = "orders" },
    };

    private static readonly DestinationConfig Teachable = new()
    {
        Id = "courses",
        Type = DestinationTypes.Teachable, Traits = DestinationTypes.TraitsOf(DestinationTypes.Teachable),
        BaseUrl = new Uri("https://developers.teachable.com"),
        RateLimit = 6,
        Courses = new Dictionary<string, string>(StringComparer.Ordinal) { ["course-pro"] = "2150843" },
    };

    private static readonly DestinationConfig Hook = new()
    {
        Id = "hook",
        Type = DestinationTypes.Webhook, Traits = DestinationTypes.TraitsOf(DestinationTypes.Webhook),
        BaseUrl = new Uri("https://hooks.example.com/"),
        RateLimit = 10,
        Events = [EventTypes.OrderPaid],
    };

    private static readonly DestinationConfig Ga4 = new()
    {
        Id = "ga",
        Type = DestinationTypes.Ga4, Traits = DestinationTypes.TraitsOf(DestinationTypes.Ga4),
        BaseUrl = new Uri("https://www.google-analytics.com"),
        RateLimit = 10,
    };

    private static readonly PersonIdentity Ada = new() { Id = "p_ada", FirstSeenAt = T0, Identifiers = [] };

    /// <summary>Feeds events one change at a time, as the projector does, and collects what the planner drafts.</summary>
    private sealed class Harness(params DestinationConfig[] destinations)
    {
        private readonly DeliveryPlanner _planner = new(destinations);
        private readonly List<CanonicalEvent> _events = [];
        private PersonState? _state;

        public List<DeliveryDraft> Drafts { get; } = [];

        public IReadOnlyList<DeliveryDraft> Apply(CanonicalEvent e, double asOfHours = 1000)
        {
            _events.Add(e);
            var after = Fold(_events, At(asOfHours));
            var drafts = _planner.Plan(new PersonChange { PersonId = Ada.Id, Identity = Ada, Before = _state, After = after, NewEvents = [e], TraceId = e.TraceId });
            _state = after;
            Drafts.AddRange(drafts);
            return drafts;
        }

        public DesiredContact Last(string destination) =>
            DeliveryPlanner.DeserializeDesired(Drafts.Last(d => d.Destination == destination && d.Kind == DeliveryKinds.State).Payload);
    }

    [Fact]
    public void Purchase_AddsThePaidTag()
    {
        var h = new Harness(Kit);

        var draft = Assert.Single(h.Apply(Paid("e1", "ord_1", 1)));

        Assert.Equal(("kit-main", "p_ada", DeliveryKinds.State, null), (draft.Destination, draft.PersonId, draft.Kind, draft.EventId));
        var desired = DeliveryPlanner.DeserializeDesired(draft.Payload);
        Assert.Equal("ada@example.com", desired.Email);
        Assert.Equal(["Customer - Course Pro"], desired.Tags); // "customer" is in the vocabulary but not mapped: not sent
        Assert.False(desired.Subscribed); // a purchase is not marketing consent
        Assert.Equal([new("buyer_status", "new"), new("lifetime_value", "49.00"), new KeyValuePair<string, string>("orders", "1")], desired.Fields);
    }

    [Fact]
    public void Refund_RemovesThePaidTag()
    {
        var h = new Harness(Kit);
        h.Apply(Paid("e1", "ord_1", 1));

        var draft = Assert.Single(h.Apply(Refund("e2", "ord_1", 2, 4900, "re_1", full: true)));

        var desired = DeliveryPlanner.DeserializeDesired(draft.Payload);
        Assert.Empty(desired.Tags);
        Assert.Contains(new KeyValuePair<string, string>("lifetime_value", "0.00"), desired.Fields);
    }

    [Fact]
    public void Duplicate_SameState_EmitsNothing()
    {
        var h = new Harness(Kit, Teachable);
        Assert.Equal(2, h.Apply(Paid("e1", "ord_1", 1)).Count);

        Assert.Empty(h.Apply(Paid("e1", "ord_1", 1)));
        Assert.Empty(h.Apply(Paid("e1b", "ord_1", 1.5))); // the same order reported again under another event id
    }

    [Fact]
    public void Unsubscribe_SendsSubscribedFalse_ToEmailDestinations_AndNothingToTheCoursePlatform()
    {
        var h = new Harness(Kit, Teachable);
        h.Apply(Optin("e1", 1));
        Assert.True(h.Last("kit-main").Subscribed);
        h.Apply(Paid("e2", "ord_1", 2));

        var drafts = h.Apply(Unsubscribe("e3", 3));

        var draft = Assert.Single(drafts);
        Assert.Equal("kit-main", draft.Destination);
        var desired = DeliveryPlanner.DeserializeDesired(draft.Payload);
        Assert.False(desired.Subscribed);
        Assert.Equal(["Customer - Course Pro"], desired.Tags); // still a customer
    }

    [Fact]
    public void Unsubscribe_WithoutConsentEverGivenHere_IsStillSentAsAnOptOut()
    {
        var h = new Harness(Kit, Teachable);
        h.Apply(Paid("e1", "ord_1", 1)); // a buyer Kit may already hold through its own form
        Assert.False(h.Last("kit-main").OptedOut);

        var draft = Assert.Single(h.Apply(Unsubscribe("e2", 2)));

        Assert.Equal("kit-main", draft.Destination);
        var desired = DeliveryPlanner.DeserializeDesired(draft.Payload);
        Assert.False(desired.Subscribed);
        Assert.True(desired.OptedOut);
        Assert.Empty(h.Apply(Unsubscribe("e3", 3))); // a second unsubscribe changes nothing
    }

    [Fact]
    public void RefundBeforePurchase_NeverLeavesATag()
    {
        var h = new Harness(Kit, Teachable);
        h.Apply(Optin("e0", 0.5)); // subscribed, so the destination does hold the person
        h.Apply(Refund("e2", "ord_1", 2, 4900, "re_1", full: true));
        h.Apply(Paid("e1", "ord_1", 1));

        Assert.DoesNotContain(h.Drafts, d => d.Kind == DeliveryKinds.State && DeliveryPlanner.DeserializeDesired(d.Payload).Tags.Count > 0);
        Assert.DoesNotContain(h.Drafts, d => d.Destination == "courses"); // never enrolled either
        Assert.Empty(h.Last("kit-main").Tags);
    }

    [Fact]
    public void NewPerson_WithNothingTheDestinationHolds_IsNotCreatedThere()
    {
        var h = new Harness(Kit);

        Assert.Empty(h.Apply(CheckoutStarted("e1", 1)));
    }

    [Fact]
    public void PersonWithoutEmail_HasNoDesiredContact()
    {
        var state = Fold([Paid("e1", "ord_1", 1, email: null)], At(10));

        Assert.Null(DeliveryPlanner.Desired(Kit, Ada, state));
    }

    [Fact]
    public void Teachable_GetsCoursesOfActiveEntitlements_AndLosesThemOnRefund()
    {
        var h = new Harness(Teachable);
        var enroll = Assert.Single(h.Apply(Paid("e1", "ord_1", 1)));
        Assert.Equal(["2150843"], DeliveryPlanner.DeserializeDesired(enroll.Payload).Courses);

        var unenroll = Assert.Single(h.Apply(Refund("e2", "ord_1", 2, 4900, "re_1", full: true)));
        Assert.Empty(DeliveryPlanner.DeserializeDesired(unenroll.Payload).Courses);
    }

    [Fact]
    public void PendingRevocation_KeepsTheCourseUntilItTakesEffect()
    {
        var teachable = Teachable with { Courses = new Dictionary<string, string>(StringComparer.Ordinal) { ["coaching"] = "99" } };
        var events = new[] { Paid("e1", "ord_1", 1, price: "price_coach"), Refund("e2", "ord_1", 2, 1000, "re_1") };

        Assert.Equal(["99"], DeliveryPlanner.Desired(teachable, Ada, Fold(events, At(3)))!.Courses); // coaching revokes 7 days after any refund
        Assert.Empty(DeliveryPlanner.Desired(teachable, Ada, Fold(events, At(2 + 24 * 8)))!.Courses);
    }

    [Fact]
    public void EventDestinations_GetOneDraftPerMatchingEvent_KeyedByTheEventId()
    {
        var h = new Harness(Hook, Ga4);

        Assert.Empty(h.Apply(Optin("e0", 0.5))); // neither the webhook's list nor GA4's default
        var drafts = h.Apply(Paid("e1", "ord_1", 1));
        var refund = Assert.Single(h.Apply(Refund("e2", "ord_1", 2, 4900, "re_1", full: true)));

        Assert.Equal([("hook", "e1"), ("ga", "e1")], drafts.Select(d => (d.Destination, d.EventId!)));
        Assert.All(drafts, d => Assert.Equal(DeliveryKinds.Event, d.Kind));
        Assert.Contains("\"order_id\":\"ord_1\"", drafts[0].Payload, StringComparison.Ordinal);
        Assert.Equal(("ga", "e2", "tr_e2"), (refund.Destination, refund.EventId, refund.TraceId));
    }

    [Fact]
    public void TestModePurchases_AreNotSentToGa4_ButStillReachTheWebhook()
    {
        var h = new Harness(Hook, Ga4);

        var drafts = h.Apply(Paid("e1", "ord_t", 1) with { TestMode = true });

        Assert.Equal(["hook"], drafts.Select(d => d.Destination));
    }

    [Fact]
    public void HistoricalEvents_AreNotSentToEventDestinations_ButStillShapeTheContact()
    {
        var h = new Harness(Kit, Hook with { Events = [] }, Ga4);

        var drafts = h.Apply(Optin("e1", 1, tags: ["vip"]) with { Historical = true });

        Assert.Equal(["kit-main"], drafts.Select(d => d.Destination));
        Assert.Equal(["VIP"], h.Last("kit-main").Tags);
        Assert.Contains(h.Apply(Optin("e2", 2)), d => d.Destination == "hook" && d.Kind == DeliveryKinds.Event); // the same event, live, is sent
    }

    [Fact]
    public void APersonKnownOnlyFromAToolsOwnExport_IsNotReAddedThere_ButIsSentElsewhere_AndLaterChangesSyncInFull()
    {
        var mailchimp = Kit with { Id = "mc", Type = DestinationTypes.Mailchimp, Traits = DestinationTypes.TraitsOf(DestinationTypes.Mailchimp) };
        var h = new Harness(Kit, mailchimp);

        var imported = h.Apply(Optin("e1", 1, tags: ["vip"]) with { Historical = true, ImportedFrom = DestinationTypes.Kit });

        Assert.Equal(["mc"], imported.Select(d => d.Destination));
        var later = h.Apply(Paid("e2", "ord_1", 2));
        Assert.Contains(later, d => d.Destination == "kit-main");
        Assert.Equal(["Customer - Course Pro", "VIP"], h.Last("kit-main").Tags);
    }

    [Fact]
    public void EventDestinationWithoutEventsList_GetsEveryEvent()
    {
        var h = new Harness(Hook with { Events = [] });

        Assert.Single(h.Apply(Optin("e0", 0.5)));
        Assert.Single(h.Apply(CheckoutStarted("e1", 1)));
    }

    [Fact]
    public void EventJson_IsPluggable()
    {
        var planner = new DeliveryPlanner([Hook], e => "{\"id\":\"" + e.Id + "\"}");
        var e = Paid("e1", "ord_1", 1);

        var draft = Assert.Single(planner.Plan(new PersonChange { PersonId = "p", Identity = Ada, After = Fold([e], At(2)), NewEvents = [e] }));

        Assert.Equal("{\"id\":\"e1\"}", draft.Payload);
    }

    [Fact]
    public void DesiredContact_RoundTripsThroughItsPayload()
    {
        var contact = new DesiredContact
        {
            Email = "ada@example.com",
            Fields = [new("a", "1"), new("b", "x\"y")],
            Tags = ["A", "B"],
            Courses = ["7"],
            Subscribed = true,
        };

        var back = DeliveryPlanner.DeserializeDesired(DeliveryPlanner.SerializeDesired(contact));

        Assert.True(contact.Equivalent(back));
        Assert.False(contact.Equivalent(back with { Subscribed = false }));
    }

    [Fact]
    public void PersonFields_AreFormattedForTheDestination()
    {
        var d = Kit with
        {
            Fields = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["email"] = "email", ["first_order_at"] = "first", ["last_order_sku"] = "sku", ["ltv_jpy"] = "ltv_jpy",
                ["spent_usd"] = "spent", ["refunded_usd"] = "refunded", ["ltv_eur"] = "none", ["first_utm_campaign"] = "campaign",
            },
        };
        var state = Fold([Paid("e1", "ord_1", 1, amount: 4900), Paid("e2", "ord_2", 2, amount: 4900, price: "price_coach", currency: "JPY"),
            Refund("e3", "ord_1", 3, 900, "re_1")], At(10));

        var fields = DeliveryPlanner.Desired(d, Ada, state)!.Fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

        Assert.Equal("ada@example.com", fields["email"]);
        Assert.Equal("2026-03-01T13:00:00Z", fields["first"]);
        Assert.Equal("PRICE_COACH", fields["sku"]);
        Assert.Equal("4900", fields["ltv_jpy"]); // yen have no minor unit
        Assert.Equal(("49.00", "9.00"), (fields["spent"], fields["refunded"]));
        Assert.False(fields.ContainsKey("none")); // no euro totals: left out, not sent as empty
        Assert.False(fields.ContainsKey("campaign"));
    }

    [Theory]
    [InlineData("ltv_usd", true)]
    [InlineData("refunded_eur", true)]
    [InlineData("ltv_USD", false)]
    [InlineData("ltv_us", false)]
    [InlineData("ltv", false)]
    [InlineData("first_name", false)]
    [InlineData("buyer_status", true)]
    public void PersonFields_KnowTheirNames(string field, bool known)
    {
        Assert.Equal(known, PersonFields.IsKnown(field));
    }

    [Fact]
    public void PlannerBuiltFromConfig_SendsGa4ItsDefaultEvents_AndKitItsMappedTag()
    {
        var config = ConfigLoader.Parse("""
            sources:
              stripe-main: { provider: stripe, secrets: ["whsec_live_3f9a0c1e7b2d4a68"] }
            tags: ["paid:course-pro", customer]
            products:
              course-pro:
                match: [{ source: stripe-main, price: price_pro }]
                tags_while_active: ["paid:course-pro", customer]
            destinations:
              kit-main: { type: kit, credentials: { api_key: k }, tags: { "paid:course-pro": Paid } }
              ga: { type: ga4, measurement_id: G-1, credentials: { api_secret: s } }
            """, null, _ => null);
        var planner = new DeliveryPlanner([.. config.Destinations.Values]);
        var optin = Optin("e0", 0.5);
        var paid = Paid("e1", "ord_1", 1);

        var first = planner.Plan(new PersonChange { PersonId = "p", Identity = Ada, After = Fold([optin], At(1)), NewEvents = [optin] });
        var second = planner.Plan(new PersonChange { PersonId = "p", Identity = Ada, Before = Fold([optin], At(1)), After = Fold([optin, paid], At(2)), NewEvents = [paid] });

        Assert.Equal(["kit-main"], first.Select(d => d.Destination));
        Assert.Equal([("ga", DeliveryKinds.Event), ("kit-main", DeliveryKinds.State)], second.Select(d => (d.Destination, d.Kind)).Order());
        Assert.Equal(["Paid"], DeliveryPlanner.DeserializeDesired(second.Single(d => d.Kind == DeliveryKinds.State).Payload).Tags);
    }
}
