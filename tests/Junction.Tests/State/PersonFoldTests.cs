using Junction.Canonical;
using Junction.State;
using static Junction.Tests.State.StateKit;

namespace Junction.Tests.State;

public sealed class PersonFoldTests
{
    private static readonly DateTimeOffset Later = At(24 * 400);

    private static EntitlementState? Entitlement(PersonState s, string product) => s.Entitlements.SingleOrDefault(e => e.Product == product);

    // ---- order ledger ----

    [Fact]
    public void Paid_RecordsTheOrderWithAmountCurrencyItemsAndPaidAt()
    {
        var s = Fold([Paid("e1", "o1", 1)], Later);

        var order = Assert.Single(s.Orders);
        Assert.Equal(("o1", "stripe-main", OrderStatuses.Paid, "USD", 4900L, 0L), (order.OrderId, order.Source, order.Status, order.Currency, order.Amount, order.Refunded));
        Assert.Equal(At(1), order.PaidAt);
        Assert.Equal("price_pro", Assert.Single(order.Items).PriceId);
    }

    [Fact]
    public void Pending_NeverGrantsAccessOrTags()
    {
        var s = Fold([Pending("e1", "o1", 1)], Later);

        Assert.Equal(OrderStatuses.Pending, Assert.Single(s.Orders).Status);
        Assert.Empty(s.Entitlements);
        Assert.Empty(s.Tags);
        Assert.Equal(0, s.Derived.OrderCount);
    }

    [Fact]
    public void PendingThenPaid_GrantsOnThePaymentOnly()
    {
        var s = Fold([Pending("e1", "o1", 1), Paid("e2", "o1", 2)], Later);

        var ent = Entitlement(s, "course-pro")!;
        Assert.Equal(EntitlementStates.Active, ent.State);
        Assert.Equal(At(2), ent.GrantedAt);
    }

    [Fact]
    public void PartialRefund_IsPartiallyRefunded_AndKeepsAccessOfAFullRefundProduct()
    {
        var s = Fold([Paid("e1", "o1", 1), Refund("e2", "o1", 2, 1000, "re_1")], Later);

        var order = Assert.Single(s.Orders);
        Assert.Equal((OrderStatuses.PartiallyRefunded, 1000L), (order.Status, order.Refunded));
        Assert.Equal(EntitlementStates.Active, Entitlement(s, "course-pro")!.State);
        Assert.Contains("paid:course-pro", s.Tags);
    }

    [Fact]
    public void FullRefund_RevokesAccessAndRemovesThePaidTag()
    {
        var s = Fold([Paid("e1", "o1", 1), Refund("e2", "o1", 5, 4900, "re_1")], Later);

        Assert.Equal(OrderStatuses.Refunded, Assert.Single(s.Orders).Status);
        var ent = Entitlement(s, "course-pro")!;
        Assert.Equal((EntitlementStates.Revoked, At(5)), (ent.State, ent.RevokedAt));
        Assert.Contains("full_refund", ent.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("paid:course-pro", s.Tags);
    }

    [Fact]
    public void Refund_RemovesPaidTag_EvenWhenItArrivesBeforeThePurchase()
    {
        var s = Fold([Refund("e2", "o1", 5, 4900, "re_1"), Paid("e1", "o1", 1)], Later);

        Assert.Equal(OrderStatuses.Refunded, Assert.Single(s.Orders).Status);
        Assert.Equal(EntitlementStates.Revoked, Entitlement(s, "course-pro")!.State);
        Assert.DoesNotContain("paid:course-pro", s.Tags);
    }

    [Fact]
    public void Refund_DatedBeforeThePurchase_StillEndsRefunded()
    {
        // Providers' clocks differ between event types: the refund may carry an earlier time.
        var s = Fold([Paid("e1", "o1", 5), Refund("e2", "o1", 1, null, "re_1", full: true)], Later);

        Assert.Equal(OrderStatuses.Refunded, Assert.Single(s.Orders).Status);
        var ent = Entitlement(s, "course-pro")!;
        Assert.Equal((EntitlementStates.Revoked, At(5)), (ent.State, ent.RevokedAt));
    }

    [Fact]
    public void OneRefundReportedByTwoEvents_CountsOnce()
    {
        var s = Fold([Paid("e1", "o1", 1), Refund("e2", "o1", 2, 1000, "re_1"), Refund("e3", "o1", 2.1, 1000, "re_1")], Later);

        Assert.Equal(1000L, Assert.Single(s.Orders).Refunded);
    }

    [Fact]
    public void CumulativeRefundedTotal_CountsRefundsNoEventReportedSingly()
    {
        var s = Fold([Paid("e1", "o1", 1), Refund("e2", "o1", 2, 1000, "re_1"), Refund("e3", "o1", 3, 500, "re_2", total: 3000)], Later);

        Assert.Equal(3000L, Assert.Single(s.Orders).Refunded);
    }

    [Fact]
    public void RefundsNeverExceedTheOrderAmount_AndReachingItIsAFullRefund()
    {
        var s = Fold([Paid("e1", "o1", 1), Refund("e2", "o1", 2, 3000, "re_1"), Refund("e3", "o1", 3, 3000, "re_2")], Later);

        var order = Assert.Single(s.Orders);
        Assert.Equal((OrderStatuses.Refunded, 4900L), (order.Status, order.Refunded));
    }

    [Fact]
    public void OpenChargeback_IsDisputed_AndKeepsAccess()
    {
        var s = Fold([Paid("e1", "o1", 1), Dispute("e2", "o1", 2, "dp_1")], Later);

        Assert.Equal(OrderStatuses.Disputed, Assert.Single(s.Orders).Status);
        Assert.Equal(EntitlementStates.Active, Entitlement(s, "course-pro")!.State);
    }

    [Fact]
    public void LostChargeback_RevokesAccess()
    {
        var s = Fold([Paid("e1", "o1", 1), Dispute("e2", "o1", 2, "dp_1"), Dispute("e3", "o1", 30, "dp_1", "lost")], Later);

        Assert.Equal(OrderStatuses.ChargebackLost, Assert.Single(s.Orders).Status);
        var ent = Entitlement(s, "course-pro")!;
        Assert.Equal((EntitlementStates.Revoked, At(30)), (ent.State, ent.RevokedAt));
        Assert.Contains("chargeback_lost", ent.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void WonChargeback_KeepsAccess()
    {
        var s = Fold([Paid("e1", "o1", 1), Dispute("e2", "o1", 2, "dp_1"), Dispute("e3", "o1", 30, "dp_1", "won")], Later);

        Assert.Equal(OrderStatuses.ChargebackWon, Assert.Single(s.Orders).Status);
        Assert.Equal(EntitlementStates.Active, Entitlement(s, "course-pro")!.State);
    }

    // ---- entitlements ----

    [Fact]
    public void AnyRefundProduct_WithDelay_IsPendingRevocationUntilTheDelayPasses()
    {
        var events = new[] { Paid("e1", "o1", 1, 20000, "price_coach"), Refund("e2", "o1", 10, 100, "re_1") };

        var during = Fold(events, At(10 + 24 * 7 - 1));
        var ent = Entitlement(during, "coaching")!;
        Assert.Equal((EntitlementStates.PendingRevocation, At(10 + 24 * 7)), (ent.State, ent.RevokesAt));
        Assert.Contains("paid:coaching", during.Tags);
        var timer = Assert.Single(during.Timers, t => t.Kind == "revocation");
        Assert.Equal((At(10 + 24 * 7), false), (timer.DueAt, timer.Due));

        var after = Fold(events, At(10 + 24 * 7));
        var revoked = Entitlement(after, "coaching")!;
        Assert.Equal((EntitlementStates.Revoked, At(10 + 24 * 7)), (revoked.State, revoked.RevokedAt));
        Assert.DoesNotContain("paid:coaching", after.Tags);
        Assert.True(Assert.Single(after.Timers, t => t.Kind == "revocation").Due);
    }

    [Fact]
    public void FullRefundProduct_IgnoresAPartialRefund_ButAnyRefundProductDoesNot()
    {
        var s = Fold([Paid("e1", "o1", 1), Paid("e2", "o2", 1, 20000, "price_coach"), Refund("e3", "o1", 2, 100, "re_1"), Refund("e4", "o2", 2, 100, "re_2")], Later);

        Assert.Equal(EntitlementStates.Active, Entitlement(s, "course-pro")!.State);
        Assert.Equal(EntitlementStates.Revoked, Entitlement(s, "coaching")!.State);
    }

    [Fact]
    public void AnotherPaidOrder_KeepsTheProductActiveAfterOneIsRefunded()
    {
        var s = Fold([Paid("e1", "o1", 1), Refund("e2", "o1", 2, 4900, "re_1"), Paid("e3", "o2", 3)], Later);

        var ent = Entitlement(s, "course-pro")!;
        Assert.Equal((EntitlementStates.Active, At(3)), (ent.State, ent.GrantedAt));
    }

    [Fact]
    public void OperatorRevoke_WinsOverAPaidOrder_UntilCleared()
    {
        var revoke = new OperatorOverride { Id = "ov1", Product = "course-pro", Action = OverrideActions.Revoke, Reason = "shared login", At = At(5) };
        var revoked = Fold([Paid("e1", "o1", 1)], Later, overrides: [revoke]);
        var ent = Entitlement(revoked, "course-pro")!;
        Assert.Equal((EntitlementStates.Revoked, "shared login", true), (ent.State, ent.Reason, ent.Override));
        Assert.DoesNotContain("paid:course-pro", revoked.Tags);

        var clear = new OperatorOverride { Id = "ov2", Product = "course-pro", Action = OverrideActions.Clear, At = At(6) };
        var cleared = Fold([Paid("e1", "o1", 1)], Later, overrides: [clear, revoke]);
        Assert.Equal((EntitlementStates.Active, false), (Entitlement(cleared, "course-pro")!.State, Entitlement(cleared, "course-pro")!.Override));
        Assert.Empty(cleared.Overrides);
    }

    [Fact]
    public void OperatorGrant_WinsOverARefund()
    {
        var grant = new OperatorOverride { Id = "ov1", Product = "course-pro", Action = OverrideActions.Grant, Reason = "goodwill", At = At(9) };
        var s = Fold([Paid("e1", "o1", 1), Refund("e2", "o1", 2, 4900, "re_1")], Later, overrides: [grant]);

        Assert.Equal((EntitlementStates.Active, "goodwill"), (Entitlement(s, "course-pro")!.State, Entitlement(s, "course-pro")!.Reason));
        Assert.Contains("paid:course-pro", s.Tags);
        Assert.Equal(OverrideActions.Grant, Assert.Single(s.Overrides).Action);
    }

    [Fact]
    public void AccessGrantedByTheCoursePlatform_CountsAsAccess_AndItsRevokeEndsIt()
    {
        var granted = Fold([Access("e1", 1, "crs_77")], Later);
        Assert.Equal(EntitlementStates.Active, Entitlement(granted, "course-pro")!.State);

        var revoked = Fold([Access("e1", 1, "crs_77"), Access("e2", 2, "crs_77", granted: false)], Later);
        Assert.Equal((EntitlementStates.Revoked, At(2)), (Entitlement(revoked, "course-pro")!.State, Entitlement(revoked, "course-pro")!.RevokedAt));
    }

    [Fact]
    public void AccessFromANonOwner_IsIgnoredAndRecorded()
    {
        var s = Fold([Access("e1", 1, "crs_77", source: "teach", provider: "stripe")], Later);

        Assert.Empty(s.Entitlements);
        var ignored = Assert.Single(s.IgnoredWrites);
        Assert.Equal((Ownership.Access, "e1"), (ignored.Field, ignored.EventId));
    }

    [Fact]
    public void MoneyFromANonOwner_IsIgnoredAndRecorded()
    {
        var s = Fold([Paid("e1", "o1", 1) with { Source = "kit-main", Provider = "kit" }], Later);

        Assert.Empty(s.Orders);
        Assert.Equal(Ownership.Money, Assert.Single(s.IgnoredWrites).Field);
    }

    [Fact]
    public void ConfiguredOwnership_ReplacesTheDefault()
    {
        var policy = Rules with { Ownership = Ownership.For(Junction.Providers.ProviderRegistry.Kinds).WithOverrides(new Dictionary<string, IReadOnlyList<string>> { [Ownership.Money] = ["shop"] }) };
        var s = Fold([Paid("e1", "o1", 1)], Later, policy);

        Assert.Empty(s.Orders);
        Assert.Single(s.IgnoredWrites);
    }

    // ---- tags ----

    [Fact]
    public void ProviderTagInTheVocabulary_IsApplied_AndRemovedByALaterRemove()
    {
        Assert.Contains("vip", Fold([Tag("e1", 1, "vip")], Later).Tags);
        Assert.DoesNotContain("vip", Fold([Tag("e2", 2, "vip", added: false), Tag("e1", 1, "vip")], Later).Tags);
    }

    [Fact]
    public void ProviderTagOutsideTheVocabulary_IsDriftNotApplied()
    {
        var s = Fold([Tag("e1", 1, "Hot Lead")], Later);

        Assert.Empty(s.Tags);
        var drift = Assert.Single(s.TagDrift);
        Assert.Equal(("Hot Lead", "add", "kit-main", "e1"), (drift.Tag, drift.Action, drift.Source, drift.EventId));
    }

    // ---- consent ----

    [Fact]
    public void Unsubscribe_WithdrawsConsent_WithItsSourceAndTime()
    {
        var s = Fold([Optin("e1", 1), Unsubscribe("e2", 2)], Later);

        var c = Assert.Single(s.Consent);
        Assert.Equal(("email", false, "kit-main", At(2), "e2"), (c.Channel, c.Granted, c.Source, c.At, c.EventId));
    }

    [Fact]
    public void SpamComplaint_WithdrawsConsent()
    {
        var s = Fold([Optin("e1", 1), SpamComplaint("e2", 2)], Later);

        Assert.False(Assert.Single(s.Consent).Granted);
    }

    [Fact]
    public void Consent_IsPerChannel()
    {
        var s = Fold([Optin("e1", 1, "sms"), Unsubscribe("e2", 2, "email")], Later);

        Assert.Equal([("email", false), ("sms", true)], s.Consent.Select(c => (c.Channel, c.Granted)));
    }

    [Fact]
    public void Consent_LatestByItsOwnTimeWins_WhateverTheArrivalOrder()
    {
        // The optin's event is later but states an earlier consent time than the unsubscribe.
        var s = Fold([Unsubscribe("e2", 2, at: At(2)), Optin("e1", 3, at: At(1))], Later);

        Assert.False(Assert.Single(s.Consent).Granted);
    }

    [Fact]
    public void Consent_TieOnTime_GoesToTheGreaterEventId()
    {
        var a = Fold([Optin("e1", 1, at: At(1)), Unsubscribe("e2", 1, at: At(1))], Later);
        var b = Fold([Unsubscribe("e2", 1, at: At(1)), Optin("e1", 1, at: At(1))], Later);

        Assert.Equal("e2", Assert.Single(a.Consent).EventId);
        Assert.Equal(a.Digest(), b.Digest());
    }

    [Fact]
    public void ConsentFromANonOwner_IsIgnoredAndRecorded()
    {
        var s = Fold([Unsubscribe("e1", 1, source: "stripe-main", provider: "stripe")], Later);

        Assert.Empty(s.Consent);
        Assert.Equal(Ownership.SubscriptionPreferences, Assert.Single(s.IgnoredWrites).Field);
    }

    // ---- attribution ----

    [Fact]
    public void FirstTouch_IsNeverOverwritten_LastTouchFollowsTheLatest()
    {
        var s = Fold([Visit("e1", 1, "spring"), Visit("e2", 2, "summer"), Visit("e3", 3, "autumn")], Later);

        Assert.Equal(("spring", "e1"), (s.Attribution.FirstTouch!.UtmCampaign, s.Attribution.FirstTouch.EventId));
        Assert.Equal("autumn", s.Attribution.LastTouch!.UtmCampaign);
    }

    [Fact]
    public void FirstTouch_IsTheEarliest_EvenWhenItArrivesLast()
    {
        var s = Fold([Visit("e2", 2, "summer"), Visit("e1", 1, "spring")], Later);

        Assert.Equal("spring", s.Attribution.FirstTouch!.UtmCampaign);
        Assert.Equal("summer", s.Attribution.LastTouch!.UtmCampaign);
    }

    [Fact]
    public void FirstTouch_PrefersTheRememberedFirstTouchCookie()
    {
        var s = Fold([Visit("e1", 1, "summer", firstCampaign: "launch-ads")], Later);

        Assert.Equal(("launch-ads", "ads"), (s.Attribution.FirstTouch!.UtmCampaign, s.Attribution.FirstTouch.UtmSource));
        Assert.Equal("summer", s.Attribution.LastTouch!.UtmCampaign);
    }

    // ---- derived ----

    [Fact]
    public void Derived_CountsOrdersDatesSkusAndBuyerStatus()
    {
        var one = Fold([Paid("e1", "o1", 1)], Later);
        Assert.Equal((1, "new"), (one.Derived.OrderCount, one.Derived.BuyerStatus));

        var s = Fold([Paid("e2", "o2", 30, 20000, "price_coach"), Paid("e1", "o1", 1), Pending("e3", "o3", 40)], Later);
        Assert.Equal((2, "returning"), (s.Derived.OrderCount, s.Derived.BuyerStatus));
        Assert.Equal((At(1), "PRICE_PRO"), (s.Derived.FirstOrderAt, s.Derived.FirstOrderSku));
        Assert.Equal((At(30), "PRICE_COACH"), (s.Derived.LastOrderAt, s.Derived.LastOrderSku));
        Assert.Equal("none", Fold([], Later).Derived.BuyerStatus);
    }

    [Fact]
    public void Derived_TotalsPerCurrency_NetOfRefundsAndLostChargebacks()
    {
        var s = Fold([
            Paid("e1", "o1", 1, 4900), Refund("e2", "o1", 2, 900, "re_1"),
            Paid("e3", "o2", 3, 20000, "price_coach"), Dispute("e4", "o2", 4, "dp_1", "lost"),
            Paid("e5", "o3", 5, 3000, currency: "EUR"),
        ], Later);

        Assert.Equal([new CurrencyTotals("EUR", 3000, 0, 3000), new CurrencyTotals("USD", 24900, 20900, 4000)], s.Derived.Totals);
    }

    // ---- emails ----

    [Fact]
    public void PaymentEmail_BecomesThePurchaseEmail_AndEmailChangedTheNewPrimary()
    {
        var lead = Optin("e1", 1);
        var paid = Paid("e2", "o1", 2, email: "ada.work@example.com");
        var changed = lead with { Id = "e3", Type = EventTypes.EmailChanged, OccurredAt = At(3), Consent = [], Subject = Subject.From("ada@new.example") with { PreviousEmail = "ada@example.com" } };

        var s = Fold([lead, paid, changed], Later);

        Assert.Equal(["ada.work@example.com", "ada@example.com", "ada@new.example"], s.Emails);
        Assert.Equal(("ada.work@example.com", "ada@new.example"), (s.PurchaseEmail, s.PrimaryEmail));
    }

    // ---- webinars and bookings ----

    [Fact]
    public void Webinars_KeepRegistrationAndAttendance()
    {
        var s = Fold([Webinar("e2", 30, attended: true, attendance: "live", duration: 3600), Webinar("e1", 1, attended: false)], Later);

        var w = Assert.Single(s.Webinars);
        Assert.Equal(("wb_1", At(1), At(30), "live", 3600L), (w.WebinarId, w.RegisteredAt, w.AttendedAt, w.Attendance, w.DurationSeconds));
    }

    [Fact]
    public void Bookings_FollowCreateRescheduleAndCancel()
    {
        var s = Fold([
            Booking("e1", 1, EventTypes.BookingCreated, "bk_1"),
            Booking("e2", 2, EventTypes.BookingRescheduled, "bk_2", from: "bk_1"),
            Booking("e3", 3, EventTypes.BookingCreated, "bk_3"),
            Booking("e4", 4, EventTypes.BookingCanceled, "bk_3"),
        ], Later);

        Assert.Equal([("bk_1", "rescheduled"), ("bk_2", "scheduled"), ("bk_3", "canceled")], s.Bookings.Select(b => (b.BookingId, b.Status)));
        Assert.Equal("bk_2", s.Bookings[0].RescheduledTo);
    }

    // ---- timers ----

    [Fact]
    public void ReviewDue_TagAppearsSevenDaysAfterFulfilment()
    {
        var events = new[] { Paid("e1", "o1", 1), Fulfilled("e2", "o1", 2) };

        var before = Fold(events, At(2 + 24 * 7 - 1));
        var timer = Assert.Single(before.Timers, t => t.Name == "review-due");
        Assert.Equal((At(2 + 24 * 7), false, "lifecycle:review-due:e2"), (timer.DueAt, timer.Due, timer.Key));
        Assert.DoesNotContain("review-due:course-pro", before.Tags);

        Assert.Contains("review-due:course-pro", Fold(events, At(2 + 24 * 7)).Tags);
    }

    [Fact]
    public void Winback_AfterNinetyDaysWithoutAnOrder_AndANewOrderResetsIt()
    {
        var first = Paid("e1", "o1", 0);
        Assert.Contains("winback", Fold([first], At(24 * 90)).Tags);
        Assert.DoesNotContain("winback", Fold([first], At(24 * 90 - 1)).Tags);

        var again = Fold([first, Paid("e2", "o2", 24 * 60)], At(24 * 90));
        Assert.DoesNotContain("winback", again.Tags);
        Assert.Equal(At(24 * 150), Assert.Single(again.Timers, t => t.Name == "winback").DueAt);
    }

    [Fact]
    public void RefusedMoneyWrite_DoesNotResetWinback()
    {
        var s = Fold([Paid("e1", "o1", 0), Paid("e2", "o2", 24 * 60) with { Source = "kit-main", Provider = "kit" }], At(24 * 90));

        Assert.Contains("winback", s.Tags);
    }

    [Fact]
    public void LifecycleRuleWithAProduct_CountsOnlyOrdersOfThatProduct()
    {
        var policy = Rules with
        {
            Lifecycle = [new LifecycleRule { Name = "review-due", After = EventTypes.OrderFulfilled, Product = "course-pro", Delay = TimeSpan.FromDays(7), AddTag = "review-due:course-pro" }],
        };

        Assert.Contains("review-due:course-pro", Fold([Paid("e1", "o1", 1), Fulfilled("e2", "o1", 2)], Later, policy).Tags);
        Assert.DoesNotContain("review-due:course-pro", Fold([Paid("e1", "o1", 1, price: "price_coach"), Fulfilled("e2", "o1", 2)], Later, policy).Tags);
    }

    [Fact]
    public void HistoricalOptin_SetsConsentAndTags_ButStartsNoLifecycleRule()
    {
        var policy = Rules with { Lifecycle = [new LifecycleRule { Name = "welcome", After = EventTypes.Optin, Delay = TimeSpan.FromDays(1), AddTag = "review-due:course-pro" }] };

        var imported = Fold([Optin("e1", 1, tags: ["vip"]) with { Historical = true }], At(24 * 30), policy);
        Assert.Equal(["vip"], imported.Tags);
        Assert.True(Assert.Single(imported.Consent).Granted);
        Assert.DoesNotContain(imported.Timers, t => t.Name == "welcome");

        var live = Fold([Optin("e1", 1, tags: ["vip"])], At(24 * 30), policy);
        Assert.Contains("review-due:course-pro", live.Tags);
    }

    [Fact]
    public void AbandonedCheckout_IsDueAfterTheTimeout_UnlessPaid()
    {
        var abandoned = Fold([CheckoutStarted("e1", 1)], At(3));
        var timer = Assert.Single(abandoned.Timers, t => t.Name == "abandoned");
        Assert.Equal((EventTypes.CheckoutAbandoned, true), (timer.Emit, timer.Due));

        Assert.DoesNotContain(Fold([CheckoutStarted("e1", 1), Paid("e2", "o1", 1.5)], At(3)).Timers, t => t.Name == "abandoned");
    }

    // ---- the fold itself ----

    [Fact]
    public void DuplicateEvent_IsFoldedOnce()
    {
        var fold = new PersonFold(Rules);
        Assert.True(fold.Apply(Refund("e2", "o1", 2, 1000)));
        Assert.False(fold.Apply(Refund("e2", "o1", 2, 1000)));

        Assert.Equal(1, fold.Count);
        Assert.Equal(1000L, Assert.Single(fold.Snapshot(Later).Orders).Refunded);
    }

    [Fact]
    public void InOrderEvents_AreAppliedIncrementally_OutOfOrderOnesRederive()
    {
        var fold = new PersonFold(Rules);
        fold.ApplyAll([Paid("e1", "o1", 1), Refund("e2", "o1", 2, 100, "re_1"), Optin("e3", 3)]);
        Assert.Equal(0, fold.Rederivations);

        fold.Apply(Visit("e0", 0.5, "spring"));
        Assert.Equal(1, fold.Rederivations);
    }

    [Fact]
    public void Digest_IsTheSameForAnyOrder_AndDiffersWhenTheStateDoes()
    {
        CanonicalEvent[] events = [Paid("e1", "o1", 1), Refund("e2", "o1", 2, 4900, "re_1"), Optin("e3", 3), Visit("e4", 4, "x")];

        var forward = Fold(events, Later).Digest();
        Assert.Equal(forward, Fold(events.Reverse(), Later).Digest());
        Assert.Matches("^[0-9a-f]{64}$", forward);
        Assert.NotEqual(forward, Fold(events[..1], Later).Digest());
    }

    [Fact]
    public void Absorb_GivesTheSameStateAsFoldingBothPeoplesEventsTogether()
    {
        CanonicalEvent[] a = [Paid("e1", "o1", 1), Optin("e3", 3)];
        CanonicalEvent[] b = [Refund("e2", "o1", 2, 4900, "re_1"), Visit("e4", 0.5, "x"), Optin("e3", 3)];
        var left = new PersonFold(Rules);
        left.ApplyAll(a);
        var right = new PersonFold(Rules);
        right.ApplyAll(b);

        left.Absorb(right);

        Assert.Equal(Fold([.. a, .. b], Later).Digest(), left.Digest(Later));
        Assert.Equal(4, left.Count);
    }

    [Fact]
    public void Snapshot_SerializesWithThePeopleApiFieldNames()
    {
        var json = Fold([Paid("e1", "o1", 1)], Later).ToJson();

        foreach (var field in new[] { "\"emails\"", "\"identifiers\"", "\"consent\"", "\"first_touch\"", "\"last_touch\"", "\"tags\"", "\"entitlements\"",
            "\"granted_at\"", "\"revoked_at\"", "\"orders\"", "\"order_id\"", "\"paid_at\"", "\"refunded\"", "\"derived\"", "\"webinars\"", "\"bookings\"" })
        {
            Assert.Contains(field, json, StringComparison.Ordinal);
        }
    }
}
