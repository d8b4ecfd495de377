(?s)SageMaker Savings Plan recommendation: ONE_YEAR term, PARTIAL_UPFRONT payment, 30-day lookback
lookback: 2024-03-02T00:00:00Z \.\. 2024-04-01T00:00:00Z \(720 hours\); the term starts 2024-04-01
rates: bill: savingsPlan/SavingsPlanEffectiveCost vs pricing/publicOnDemandCost .*36\.00% off\).*recommended commitment: \$[0-9]+\.[0-9]{3}/hour .*, upfront \$[0-9,.]+
estimated savings: \$[0-9,.]+ over the lookback period.*expected utilization [0-9.]+%.*break-even: commitments above \$[0-9.]+/hour lose money.*<- recommended.*-10%.*-25%.*-50%.*its start 2024-01-01 plus its 1-year term.*2024-04-01 \.\. 2024-12-31: 1 existing plan\(s\) active
  2024-12-31 \.\. 2025-04-01: 0 existing plan\(s\) active
