-- wrk script: POST /v1/inquiries with a valid body (a prostate radioligand trial).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"submitter":{"organization":"Bench Pharma","organization_type":"pharma","name":"Load Test","email":"load@bench.example","country":"FR"},"inquiry_type":"clinical_trial","title":"Phase 1 site for a PSMA radioligand","summary":"Benchmark submission.","therapeutic_areas":["prostate"],"modalities":["radiopharmaceutical"],"stage":"phase_1","non_confidential":true}]]
